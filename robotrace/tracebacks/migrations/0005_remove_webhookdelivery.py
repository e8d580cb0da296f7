from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("tracebacks", "0004_webhook_deliveries_to_outbox"),
    ]

    operations = [migrations.DeleteModel(name="WebhookDelivery")]

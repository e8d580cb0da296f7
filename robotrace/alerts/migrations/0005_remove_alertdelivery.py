from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0004_alert_deliveries_to_outbox"),
    ]

    operations = [
        migrations.DeleteModel(name="AlertDeliveryAttempt"),
        migrations.DeleteModel(name="AlertDelivery"),
    ]

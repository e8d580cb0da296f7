from django.db import migrations, models


class Migration(migrations.Migration):
    """Timeline rows of a hop answered or a traceback completed become durable events
    (tracebacks.events): each records the subscribers that handled it. Rows written before
    start unhandled, so the subscribers' catch-up also takes the completions of the past."""

    dependencies = [
        ("tracebacks", "0002_hopevidence_numberblock_tracebackevent_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="tracebackevent",
            name="handled_by",
            field=models.JSONField(blank=True, default=list),
        ),
    ]

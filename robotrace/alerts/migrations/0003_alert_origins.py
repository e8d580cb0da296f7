import django.db.models.deletion
import django.db.models.manager
from django.db import migrations, models


class Migration(migrations.Migration):
    """What tracebacks of an alerted campaign found after the alert (traceback completed events)."""

    dependencies = [
        ("alerts", "0002_sealed_webhook_secrets"),
        ("tracebacks", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="AlertOrigin",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("traceback_ref", models.CharField(max_length=20)),
                ("outcome", models.CharField(max_length=30)),
                ("outcome_label", models.CharField(max_length=100)),
                ("originating_provider", models.CharField(blank=True, max_length=200)),
                ("originating_customer", models.CharField(blank=True, help_text="The customer's name as the originating provider gave it", max_length=200)),
                ("point_of_entry_provider", models.CharField(blank=True, max_length=200)),
                ("completed_at", models.DateTimeField(blank=True, null=True)),
                ("recorded_at", models.DateTimeField()),
                ("alert", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="origins", to="alerts.alert")),
                ("traceback", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="tracebacks.traceback")),
            ],
            options={
                "ordering": ["-completed_at", "-id"],
                "constraints": [models.UniqueConstraint(fields=("alert", "traceback"), name="alertorigin_once_per_traceback")],
            },
            managers=[
                ("all_objects", django.db.models.manager.Manager()),
            ],
        ),
    ]

"""Scorecards, flags, flag runs, disputes and provider notices move to the scorecards app
(its migration 0001 takes them into its state next). Their tables stay as they are: this
only removes the models from the providers app's state."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0006_provider_lookup_keys"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="Dispute"),
                migrations.DeleteModel(name="ProviderNotice"),
                migrations.DeleteModel(name="ProviderScorecard"),
                migrations.DeleteModel(name="ProviderFlag"),
                migrations.DeleteModel(name="FlagRun"),
            ],
        ),
    ]

"""Scorecards take over five models of the providers app without moving a row."""

import django.db.models.deletion
import django.db.models.manager
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """The scorecard, flag, dispute and notice models move here from the providers app as
    they are: their tables keep the providers_ names, so only Django's model state changes
    (providers 0007 has dropped them from the providers app's state just before)."""

    initial = True

    dependencies = [
        ('providers', '0007_scorecard_models_move_to_scorecards'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='FlagRun',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at', models.DateTimeField(db_index=True)),
                        ('active_flags', models.PositiveIntegerField(default=0)),
                        ('flagged_providers', models.PositiveIntegerField(default=0)),
                        ('newly_flagged', models.PositiveIntegerField(default=0)),
                        ('cleared', models.PositiveIntegerField(default=0)),
                        ('per_rule', models.JSONField(blank=True, default=dict)),
                        ('seconds', models.FloatField(default=0)),
                    ],
                    options={
                        'db_table': 'providers_flagrun',
                        'ordering': ['-at'],
                    },
                ),
                migrations.CreateModel(
                    name='ProviderFlag',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('rule', models.CharField(choices=[('non_participation', 'Does not participate in traceback'), ('non_responsive', 'Non-responsive to traceback notices'), ('originates_illegal', 'Repeatedly originates illegal campaigns'), ('foreign_gateway', 'Repeatedly the US point of entry for foreign illegal traffic'), ('no_records', 'Repeatedly fails to provide records'), ('rmd_absent', 'Not in the Robocall Mitigation Database, or removed')], max_length=24)),
                        ('active', models.BooleanField(db_index=True, default=True)),
                        ('first_flagged_at', models.DateTimeField()),
                        ('flagged_at', models.DateTimeField(help_text='Start of the current (or last) flagged episode')),
                        ('last_evaluated_at', models.DateTimeField()),
                        ('cleared_at', models.DateTimeField(blank=True, null=True)),
                        ('detail', models.CharField(blank=True, max_length=300)),
                        ('evidence_ids', models.JSONField(blank=True, default=list, help_text='Traceback ids behind the flag')),
                        ('evidence_count', models.PositiveIntegerField(default=0)),
                        ('dismissed_evidence_ids', models.JSONField(blank=True, default=list)),
                        ('history', models.JSONField(blank=True, default=list, help_text='[[date, evidence count], ...] per evaluation day')),
                        ('provider', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='flags', to='providers.provider')),
                    ],
                    options={
                        'db_table': 'providers_providerflag',
                        'ordering': ['-active', '-flagged_at'],
                    },
                    managers=[
                        ('all_objects', django.db.models.manager.Manager()),
                    ],
                ),
                migrations.CreateModel(
                    name='Dispute',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('status', models.CharField(choices=[('open', 'Open'), ('upheld', 'Upheld (flag withdrawn)'), ('rejected', 'Rejected (flag stands)')], db_index=True, default='open', max_length=10)),
                        ('reason', models.TextField()),
                        ('filed_at', models.DateTimeField()),
                        ('resolved_at', models.DateTimeField(blank=True, null=True)),
                        ('resolution', models.TextField(blank=True)),
                        ('filed_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('provider', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='disputes', to='providers.provider')),
                        ('resolved_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('flag', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='disputes', to='scorecards.providerflag')),
                    ],
                    options={
                        'db_table': 'providers_dispute',
                        'ordering': ['-filed_at'],
                    },
                    managers=[
                        ('all_objects', django.db.models.manager.Manager()),
                    ],
                ),
                migrations.CreateModel(
                    name='ProviderNotice',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('title', models.CharField(max_length=200)),
                        ('body', models.TextField(blank=True)),
                        ('link', models.CharField(blank=True, max_length=300)),
                        ('created_at', models.DateTimeField(db_index=True)),
                        ('read_at', models.DateTimeField(blank=True, null=True)),
                        ('provider', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notices', to='providers.provider')),
                    ],
                    options={
                        'db_table': 'providers_providernotice',
                        'ordering': ['-created_at'],
                    },
                    managers=[
                        ('all_objects', django.db.models.manager.Manager()),
                    ],
                ),
                migrations.CreateModel(
                    name='ProviderScorecard',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('period', models.CharField(choices=[('month', 'Month'), ('quarter', 'Quarter'), ('all', 'All time')], max_length=8)),
                        ('period_key', models.CharField(max_length=8)),
                        ('period_start', models.DateField(blank=True, null=True)),
                        ('notices', models.PositiveIntegerField(default=0)),
                        ('answered', models.PositiveIntegerField(default=0)),
                        ('answered_on_time', models.PositiveIntegerField(default=0)),
                        ('answered_late', models.PositiveIntegerField(default=0)),
                        ('never_answered', models.PositiveIntegerField(default=0)),
                        ('open_notices', models.PositiveIntegerField(default=0)),
                        ('no_record', models.PositiveIntegerField(default=0)),
                        ('median_answer_seconds', models.FloatField(blank=True, null=True)),
                        ('originating_illegal', models.PositiveIntegerField(default=0)),
                        ('originating_traced', models.PositiveIntegerField(default=0, help_text='Originating provider on any traceback')),
                        ('originating_campaign_ids', models.JSONField(blank=True, default=list)),
                        ('point_of_entry_illegal', models.PositiveIntegerField(default=0)),
                        ('point_of_entry_traced', models.PositiveIntegerField(default=0, help_text='US point of entry on any traceback')),
                        ('point_of_entry_campaign_ids', models.JSONField(blank=True, default=list)),
                        ('chain_stopped', models.PositiveIntegerField(default=0, help_text='Tracebacks that stopped at this provider')),
                        ('customers_warned', models.PositiveIntegerField(default=0)),
                        ('customers_terminated', models.PositiveIntegerField(default=0)),
                        ('attestation', models.JSONField(blank=True, default=dict, help_text='A/B/C counts on traced calls it signed')),
                        ('rmd_status', models.CharField(choices=[('unknown', 'Not checked'), ('listed', 'Listed'), ('not_listed', 'Not listed'), ('removed', 'Removed')], default='unknown', max_length=12)),
                        ('computed_at', models.DateTimeField()),
                        ('provider', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='scorecards', to='providers.provider')),
                    ],
                    options={
                        'db_table': 'providers_providerscorecard',
                        'ordering': ['provider', 'period', 'period_key'],
                    },
                    managers=[
                        ('all_objects', django.db.models.manager.Manager()),
                    ],
                ),
                migrations.AddConstraint(
                    model_name='providerflag',
                    constraint=models.UniqueConstraint(fields=('provider', 'rule'), name='flag_once_per_rule'),
                ),
                migrations.AddIndex(
                    model_name='providerscorecard',
                    index=models.Index(fields=['period', 'period_key'], name='scorecard_period_idx'),
                ),
                migrations.AddConstraint(
                    model_name='providerscorecard',
                    constraint=models.UniqueConstraint(fields=('provider', 'period', 'period_key'), name='scorecard_once_per_period'),
                ),
            ],
        ),
    ]

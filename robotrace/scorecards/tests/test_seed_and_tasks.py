from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from robotrace.providers.models import Provider
from robotrace.providers.tests import factories as f
from robotrace.scorecards import seed
from robotrace.scorecards.models import FlagRun, ProviderFlag, ProviderScorecard
from robotrace.scorecards.tasks import refresh_now, refresh_scorecards_and_flags


def test_it_seeds_nothing_invented_when_the_simulator_has_not_run(world):
    before = Provider.objects.count()
    seed.seed(world=None)
    assert Provider.objects.count() == before == 2  # the two provider organisations
    assert not ProviderScorecard.objects.unscoped(reason="test").exists()
    assert not ProviderFlag.objects.unscoped(reason="test").exists()


def test_it_scores_simulated_tracebacks_at_seeding(world):
    silent = f.provider("Silent Simulated Carrier")
    f.unanswered(silent, 3, at=timezone.now() - timedelta(days=2))
    seed.seed(world=None)
    assert ProviderFlag.objects.unscoped(reason="test").filter(provider=silent, rule="non_responsive", active=True).exists()


def test_it_refreshes_scorecards_and_flags_from_the_tasks(world):
    silent = f.provider("Silent Carrier")
    f.unanswered(silent, 3, at=timezone.now() - timedelta(days=2))
    result = refresh_now()
    value = result.get() if hasattr(result, "get") else result
    assert value["scorecard_rows"] >= 3 and silent.id in value["newly_flagged"]
    refresh_scorecards_and_flags()
    assert FlagRun.objects.count() == 2


def test_it_recomputes_from_the_command_line(world):
    from io import StringIO

    from django.core.management import call_command

    silent = f.provider("Command Line Silent")
    f.unanswered(silent, 3, at=timezone.now() - timedelta(days=2))
    out = StringIO()
    call_command("providers", "evaluate", stdout=out)
    assert "providers newly flagged" in out.getvalue() and "non_responsive: 1" in out.getvalue()
    out = StringIO()
    call_command("providers", "scorecards", stdout=out)
    assert "scorecard rows for 3 providers" in out.getvalue()

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from robotrace.audit.models import AuditEvent
from robotrace.providers.models import Provider
from robotrace.providers.tests import factories as f
from robotrace.scorecards import criteria
from robotrace.scorecards.conf import Thresholds
from robotrace.scorecards.models import FlagRun, ProviderFlag, ProviderNotice

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
RECENT = NOW - timedelta(days=10)
TH = Thresholds(window_days=90, non_participation_min_notices=3, non_responsive_min=3, originates_illegal_min=3,
                foreign_gateway_min=3, no_records_min=3, no_records_share=0.5, illegal_scope="confirmed")


def rules(provider: Provider) -> set[str]:
    return {x.rule for x in criteria.evaluate(thresholds=TH, now=NOW) if x.provider_id == provider.id}


def finding(provider: Provider, rule: str) -> criteria.Finding:
    return next(x for x in criteria.evaluate(thresholds=TH, now=NOW) if x.provider_id == provider.id and x.rule == rule)


def answered(p: Provider, n: int, *, response: str = "upstream") -> None:
    for i in range(n):
        tb = f.traceback(at=RECENT + timedelta(minutes=i))
        f.hop(tb, p, received_at=RECENT + timedelta(minutes=i), answer_after=timedelta(hours=1), response=response)


@pytest.mark.django_db
def test_it_flags_non_responsive_at_the_threshold_and_not_below():
    below, at = f.provider("Below", contact_email="a@x.test"), f.provider("At", contact_email="b@x.test")
    answered(below, 1)
    answered(at, 1)
    f.unanswered(below, 2, at=RECENT)
    tbs = f.unanswered(at, 3, at=RECENT)
    assert "non_responsive" not in rules(below)
    assert "non_responsive" in rules(at)
    assert finding(at, "non_responsive").evidence_ids == sorted(t.id for t in tbs)


@pytest.mark.django_db
def test_it_ignores_unanswered_notices_outside_the_window():
    p = f.provider("Old silence", contact_email="a@x.test")
    answered(p, 1)
    f.unanswered(p, 5, at=NOW - timedelta(days=120))
    assert "non_responsive" not in rules(p)


@pytest.mark.django_db
def test_it_flags_non_participation_when_no_notice_was_ever_answered():
    two, three = f.provider("Two", contact_email="a@x.test"), f.provider("Three", contact_email="b@x.test")
    f.unanswered(two, 2, at=RECENT)
    f.unanswered(three, 3, at=RECENT)
    assert "non_participation" not in rules(two)
    assert "non_participation" in rules(three)


@pytest.mark.django_db
def test_it_flags_non_participation_of_an_unreachable_provider_without_an_account_on_one_notice():
    reachable = f.provider("Reachable", contact_email="noc@reachable.test")
    silent = f.provider("No contacts")
    bounced = f.provider("Bounced", contact_email="noc@bounced.test", contacts_unreachable_at=NOW)
    for p in (reachable, silent, bounced):
        f.unanswered(p, 1, at=RECENT)
    assert "non_participation" not in rules(reachable)
    assert "non_participation" in rules(silent)
    assert "non_participation" in rules(bounced)


@pytest.mark.django_db
def test_it_does_not_count_notices_that_are_not_yet_due():
    p = f.provider("Fresh", contact_email="a@x.test")
    for i in range(5):
        tb = f.traceback(at=NOW - timedelta(hours=1))
        f.hop(tb, p, received_at=NOW - timedelta(hours=1, minutes=i))
    assert rules(p) == set()


@pytest.mark.django_db
def test_it_flags_repeat_originators_of_illegal_campaigns_at_the_threshold():
    c = f.campaign()
    two, three = f.provider("Two orig"), f.provider("Three orig")
    for _ in range(2):
        f.traceback(at=RECENT, campaign=c, originating_provider=two)
    tbs = [f.traceback(at=RECENT, campaign=c, originating_provider=three) for _ in range(3)]
    # suspected campaigns without a legal basis do not count
    for _ in range(3):
        f.traceback(at=RECENT, campaign=f.campaign("unsure", status="suspected"), originating_provider=two)
    assert "originates_illegal" not in rules(two)
    assert "originates_illegal" in rules(three)
    assert finding(three, "originates_illegal").evidence_ids == [t.id for t in tbs]


@pytest.mark.django_db
def test_it_counts_every_traceback_as_illegal_traffic_in_the_traced_scope():
    p = f.provider("Unconfirmed orig")
    for _ in range(3):
        f.traceback(at=RECENT, campaign=f.campaign("unsure", status="suspected"), originating_provider=p)
    assert "originates_illegal" not in rules(p)
    traced = Thresholds(**{**TH.__dict__, "illegal_scope": "traced"})
    found = [x for x in criteria.evaluate(thresholds=traced, now=NOW) if x.provider_id == p.id]
    assert [x.rule for x in found] == ["originates_illegal"] and "tracebacks of illegal calls" in found[0].detail


@pytest.mark.django_db
def test_it_flags_repeat_us_points_of_entry_for_foreign_illegal_traffic():
    two, three = f.provider("Two gw"), f.provider("Three gw")
    for _ in range(2):
        f.traceback(at=RECENT, legal_basis=["tsr_310_4_b_1_v"], point_of_entry_provider=two, outcome="foreign_origin")
    for _ in range(3):
        f.traceback(at=RECENT, legal_basis=["tsr_310_4_b_1_v"], point_of_entry_provider=three, outcome="foreign_origin")
    assert "foreign_gateway" not in rules(two)
    assert "foreign_gateway" in rules(three)


@pytest.mark.django_db
def test_it_flags_repeated_no_record_answers_at_count_and_share():
    two, three, diluted = f.provider("Two nr"), f.provider("Three nr"), f.provider("Diluted nr")
    answered(two, 2, response="no_record")
    answered(three, 3, response="no_record")
    answered(diluted, 3, response="no_record")
    answered(diluted, 4, response="upstream")  # 3 of 7 is below the 50% share
    assert "no_records" not in rules(two)
    assert "no_records" in rules(three)
    assert "no_records" not in rules(diluted)


@pytest.mark.django_db
def test_it_flags_providers_absent_from_or_removed_from_the_rmd():
    listed = f.provider("Listed", rmd_status="listed")
    unknown = f.provider("Unchecked")
    absent = f.provider("Absent", rmd_status="not_listed")
    removed = f.provider("Removed", rmd_status="removed", rmd_removed_at=NOW.date())
    assert "rmd_absent" not in rules(listed) | rules(unknown)
    assert "rmd_absent" in rules(absent)
    assert "removed from the RMD" in finding(removed, "rmd_absent").detail


@pytest.mark.django_db
def test_it_keeps_the_first_flagged_date_records_trend_and_clears(world):
    p = Provider.objects.get(organisation=world.provider_a)
    answered(p, 1)
    f.unanswered(p, 3, at=RECENT)
    result = criteria.run(thresholds=TH, now=NOW)
    assert result.newly_flagged == [p.id]
    flag = ProviderFlag.objects.unscoped(reason="test").get(provider=p, rule="non_responsive")
    assert flag.active and flag.first_flagged_at == NOW and flag.history == [[NOW.date().isoformat(), 3]]
    later = NOW + timedelta(days=1)
    assert criteria.run(thresholds=TH, now=later).newly_flagged == []
    flag.refresh_from_db()
    assert flag.first_flagged_at == NOW and len(flag.history) == 2
    # 100 days later the notices are outside the window: the flag clears but is kept.
    criteria.run(thresholds=TH, now=NOW + timedelta(days=100))
    flag.refresh_from_db()
    assert not flag.active and flag.cleared_at is not None
    assert FlagRun.objects.count() == 3
    last = AuditEvent.objects.filter(action="provider.flags_evaluated").order_by("-id").first()
    assert last.data["cleared"] == [[p.id, "non_responsive"]] and last.data["flagged"] == []


@pytest.mark.django_db
def test_it_tells_a_newly_flagged_provider_in_app_and_by_email_with_only_a_link(world):
    p = Provider.objects.get(organisation=world.provider_a)
    p.contact_email = "noc@provider-a.test"
    p.save()
    f.unanswered(p, 3, at=RECENT)
    with pytest.MonkeyPatch.context():
        from django.test import TestCase

        with TestCase.captureOnCommitCallbacks(execute=True):
            criteria.run(thresholds=TH, now=NOW)
    notice = ProviderNotice.objects.for_org(world.provider_a).get()
    assert "non-cooperative" in notice.title
    assert len(mail.outbox) == 1
    msg = mail.outbox[0]
    assert set(msg.to) == {"noc@provider-a.test", world.pat.email}
    assert "/providers/scorecard/" in msg.body and "TB-" not in msg.body
    event = AuditEvent.objects.get(action="provider.flags_evaluated")
    assert sorted(r[1] for r in event.data["flagged"]) == ["non_participation", "non_responsive"]


@pytest.mark.django_db
@pytest.mark.parametrize("scope", ["traced", "confirmed"])
def test_it_finds_the_same_with_the_scorecard_pass_as_on_its_own(scope, monkeypatch):
    from robotrace.scorecards.scorecards import compute_all

    th = Thresholds(**{**TH.__dict__, "illegal_scope": scope})
    c = f.campaign()
    quiet, orig, gw, nr = f.provider("Quiet"), f.provider("Orig"), f.provider("Gw"), f.provider("Nr", rmd_status="removed")
    f.unanswered(quiet, 4, at=RECENT)
    f.unanswered(quiet, 4, at=NOW - timedelta(days=200))
    for _ in range(3):
        f.traceback(at=RECENT, campaign=c, originating_provider=orig)
        f.traceback(at=RECENT, campaign=f.campaign("s", status="suspected"), point_of_entry_provider=gw)
    answered(nr, 3, response="no_record")
    cards = compute_all(now=NOW, since=NOW - timedelta(days=th.window_days))

    def key(findings):
        return sorted((x.provider_id, x.rule, x.detail, tuple(x.evidence_ids)) for x in findings)

    alone = key(criteria.evaluate(thresholds=th, now=NOW))
    assert alone == key(criteria.evaluate(thresholds=th, now=NOW, window=cards.window))
    # the one-scan evidence path (many flagged providers, no scorecard pass) finds the same
    monkeypatch.setattr(criteria, "SCAN_ABOVE", 0)
    assert alone == key(criteria.evaluate(thresholds=th, now=NOW))
    assert {(p, r) for p, r, _, _ in alone} >= {(quiet.id, "non_responsive"), (orig.id, "originates_illegal"), (nr.id, "no_records"), (nr.id, "rmd_absent")}

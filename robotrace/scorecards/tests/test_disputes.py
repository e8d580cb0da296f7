from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from robotrace.audit.models import AuditEvent
from robotrace.providers.models import Provider
from robotrace.providers.tests import factories as f
from robotrace.scorecards import criteria, services
from robotrace.scorecards.conf import Thresholds
from robotrace.scorecards.models import Dispute, ProviderFlag, ProviderNotice

TH = Thresholds()


@pytest.fixture
def flagged(world):
    p = Provider.objects.get(organisation=world.provider_a)
    tbs = f.unanswered(p, 3, at=timezone.now() - timedelta(days=5))
    criteria.run(thresholds=TH)
    return ProviderFlag.objects.for_org(world.provider_a).get(rule="non_responsive"), tbs


def test_it_lets_a_provider_dispute_its_flag_and_staff_uphold_it(world, flagged):
    flag, tbs = flagged
    d = services.file_dispute(actor=world.pat, flag=flag, reason="We answered these by e-mail on time.")
    assert AuditEvent.objects.filter(action="provider.dispute_filed", object_id=str(d.pk)).exists()
    with pytest.raises(ValidationError, match="already an open dispute"):
        services.file_dispute(actor=world.pat, flag=flag, reason="Again, we answered these.")
    services.resolve_dispute(actor=world.alice, dispute=d, decision="upheld", resolution="E-mail answers found.")
    flag.refresh_from_db()
    assert not flag.active and set(flag.dismissed_evidence_ids) == {t.id for t in tbs}
    assert ProviderNotice.objects.for_org(world.provider_a).filter(title="Dispute upheld (flag withdrawn)").exists()
    # the same evidence does not re-flag...
    criteria.run(thresholds=TH)
    flag.refresh_from_db()
    assert not flag.active
    # ...new evidence does
    f.unanswered(flag.provider, 1, at=timezone.now() - timedelta(days=2))
    criteria.run(thresholds=TH)
    flag.refresh_from_db()
    assert flag.active


def test_it_keeps_the_flag_when_a_dispute_is_rejected(world, flagged):
    flag, _ = flagged
    d = services.file_dispute(actor=world.pat, flag=flag, reason="We do not think this is fair.")
    services.resolve_dispute(actor=world.carol, dispute=d, decision="rejected", resolution="No answers were received.")
    flag.refresh_from_db()
    assert flag.active
    assert Dispute.objects.for_org(world.provider_a).get().status == "rejected"
    with pytest.raises(ValidationError, match="already resolved"):
        services.resolve_dispute(actor=world.alice, dispute=d, decision="upheld", resolution="changed mind")


def test_it_refuses_disputes_by_other_organisations_and_resolution_by_non_staff(world, flagged):
    flag, _ = flagged
    with pytest.raises(services.PermissionDenied):
        services.file_dispute(actor=world.quinn, flag=flag, reason="Not my flag but still.")
    with pytest.raises(ValidationError, match="10 characters"):
        services.file_dispute(actor=world.pat, flag=flag, reason="no")
    d = services.file_dispute(actor=world.pat, flag=flag, reason="We answered by phone.")
    with pytest.raises(services.PermissionDenied):
        services.resolve_dispute(actor=world.pat, dispute=d, decision="upheld", resolution="I agree with myself")
    with pytest.raises(ValidationError, match="explain"):
        services.resolve_dispute(actor=world.alice, dispute=d, decision="upheld", resolution="")
    # another provider cannot even see the flag
    assert not ProviderFlag.objects.for_org(world.provider_b).exists()

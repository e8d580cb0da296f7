from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from robotrace.conftest import bearer
from robotrace.providers.models import Provider
from robotrace.providers.tests import factories as f
from robotrace.scorecards import criteria
from robotrace.scorecards.conf import Thresholds
from robotrace.scorecards.scorecards import compute_all


@pytest.fixture
def scored(world):
    a = Provider.objects.get(organisation=world.provider_a)
    b = Provider.objects.get(organisation=world.provider_b)
    f.unanswered(a, 3, at=timezone.now() - timedelta(days=3))
    compute_all()
    criteria.run(thresholds=Thresholds())
    return {"a": a, "b": b}


def test_it_answers_a_scorecard_to_its_provider_and_the_consortium_only(world, as_user, api_key, client, scored):
    a, b = scored["a"], scored["b"]
    url = f"/api/v1/providers/{a.pk}/scorecard"
    resp = client.get(url, {"period": "all"}, **bearer(api_key(world.provider_a, ["providers:read"])))
    assert resp.status_code == 200
    body = resp.json()
    assert body["provider"] == "Provider Alpha" and body["items"][0]["notices"] == 3 and body["items"][0]["never_answered"] == 3
    assert as_user(world.alice).get(url).status_code == 200
    # another provider, a reporter, an agency: 404, never confirming the scorecard exists
    assert client.get(url, **bearer(api_key(world.provider_b, ["providers:read"]))).status_code == 404
    for user in (world.quinn, world.rita, world.dana):
        assert as_user(user).get(url).status_code == 404
    assert as_user(world.pat).get(f"/api/v1/providers/{b.pk}/scorecard").status_code == 404
    assert as_user(world.pat).get(f"/api/v1/providers/{a.pk}/scorecard", {"period": "2026-13"}).status_code == 400
    assert client.get(url, **bearer(api_key(world.provider_a, ["traceback:read"]))).status_code == 403


def test_it_publishes_the_noncooperative_list_to_consortium_and_agencies(world, as_user, api_key, client, scored):
    for user in (world.carol, world.dana, world.omar):
        resp = as_user(user).get("/api/v1/providers/noncooperative")
        assert resp.status_code == 200
        items = resp.json()["items"]
        assert [i["provider"] for i in items] == ["Provider Alpha"]
        rules = {fl["rule"] for fl in items[0]["flags"]}
        assert {"non_responsive", "non_participation"} <= rules
        assert all(t.startswith("TB-") for fl in items[0]["flags"] for t in fl["evidence_traceback_ids"])
    key = api_key(world.agency_a, ["legal:read"])
    assert client.get("/api/v1/providers/noncooperative", **bearer(key)).status_code == 403
    for user in (world.pat, world.rita):
        assert as_user(user).get("/api/v1/providers/noncooperative").status_code == 403

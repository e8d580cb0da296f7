from __future__ import annotations

import pytest
from django.urls import reverse

from robotrace.audit.models import AuditEvent
from robotrace.providers.models import Provider


@pytest.fixture
def registered(world):
    """The registry records of the two provider organisations (their scorecards and flags
    are the scorecards app's tests)."""
    return {"a": Provider.objects.get(organisation=world.provider_a), "b": Provider.objects.get(organisation=world.provider_b)}


def test_it_shows_the_registry_to_the_consortium_only(world, as_user, registered):
    url = reverse("providers:list")
    resp = as_user(world.carol).get(url, {"q": "Alpha"})
    assert resp.status_code == 200 and b"Provider Alpha" in resp.content and b"Provider Bravo" not in resp.content
    assert as_user(world.carol).get(url, {"rmd": "listed"}).content.count(b"Provider Alpha") == 0
    for user in (world.pat, world.rita, world.dana):
        assert as_user(user).get(url).status_code == 403
    assert AuditEvent.objects.filter(action="access.denied").count() == 3


def test_it_shows_detail_create_edit_and_merge_to_the_consortium(world, as_user, registered):
    c = as_user(world.alice)
    a = registered["a"]
    resp = c.get(reverse("providers:detail", args=[a.pk]))
    assert resp.status_code == 200 and b"Traceback contacts" in resp.content and b"provider.account_linked" in resp.content
    resp = c.post(reverse("providers:create"), {"name": "Pending Upstream", "frn": "123", "country": "us", "status": "pending",
                                               "timezone": "America/Chicago", "business_hours_start": 8, "business_hours_end": 17})
    new = Provider.objects.get(name="Pending Upstream")
    assert resp.status_code == 302 and new.frn == "0000000123" and new.country == "US"
    resp = c.post(reverse("providers:edit", args=[new.pk]), {"name": "Pending Upstream", "status": "pending", "country": "US",
                                                             "contact_email": "noc@pu.test", "timezone": "America/Chicago",
                                                             "business_hours_start": 9, "business_hours_end": 8})
    assert resp.status_code == 200 and b"must end after" in resp.content
    resp = c.post(reverse("providers:merge", args=[new.pk]), {"target": registered["b"].pk})
    assert resp.status_code == 302
    new.refresh_from_db()
    assert new.status == "merged"
    for user in (world.pat, world.dana, world.rita):
        assert as_user(user).get(reverse("providers:detail", args=[a.pk])).status_code == 403
        assert as_user(user).post(reverse("providers:merge", args=[a.pk]), {"target": registered["b"].pk}).status_code == 403
        assert as_user(user).get(reverse("providers:create")).status_code == 403
        assert as_user(user).get(reverse("providers:edit", args=[a.pk])).status_code == 403
        assert as_user(user).post(reverse("providers:edit", args=[a.pk]), {"name": "Hijacked"}).status_code == 403

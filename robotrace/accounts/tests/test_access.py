"""Z1: every accounts page refuses other kinds (403) and other organisations' objects (404)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from robotrace.accounts import services as accounts
from robotrace.accounts.models import ApiKey
from robotrace.audit.models import AuditEvent


def _consortium_admin_pages(world):
    key = accounts.issue_api_key(actor=None, organisation=world.provider_b, name="victim", scopes=["traceback:respond"]).api_key
    return [
        ("get", reverse("accounts:admin_home"), {}),
        ("get", reverse("accounts:org_list"), {}),
        ("get", reverse("accounts:org_create"), {}),
        ("post", reverse("accounts:org_create"), {"name": "Sneaky", "kind": "provider"}),
        ("get", reverse("accounts:org_detail", args=[world.provider_b.pk]), {}),
        ("get", reverse("accounts:user_create", args=[world.provider_b.pk]), {}),
        ("post", reverse("accounts:user_create", args=[world.provider_b.pk]), {"email": "x@y.test", "role": "admin", "password": "gravel orchid kettle umbra"}),
        ("post", reverse("accounts:user_role", args=[world.quinn.pk]), {"role": "read_only"}),
        ("post", reverse("accounts:user_active", args=[world.quinn.pk]), {"active": "0"}),
        ("post", reverse("accounts:user_end_sessions", args=[world.quinn.pk]), {}),
        ("post", reverse("accounts:user_unlock", args=[world.quinn.pk]), {}),
        ("get", reverse("accounts:approvals"), {}),
        ("get", reverse("accounts:approval_decide", args=[world.omar.pk]), {}),
        ("post", reverse("accounts:org_key_issue", args=[world.provider_b.pk]), {"name": "evil", "scopes": ["traceback:respond"]}),
        ("post", reverse("accounts:org_key_revoke", args=[world.provider_b.pk, key.pk]), {}),
        ("get", reverse("audit:list"), {}),
        ("post", reverse("audit:verify"), {}),
    ], key


@pytest.mark.parametrize("persona", ["carol", "pat", "quinn", "rita", "sam", "dana", "omar"])
def test_consortium_admin_pages_refuse_everyone_else(world, as_user, persona):
    pages, key = _consortium_admin_pages(world)
    c = as_user(getattr(world, persona))
    for method, url, data in pages:
        r = getattr(c, method)(url, data)
        assert r.status_code == 403, (persona, method, url, r.status_code)
    world.quinn.refresh_from_db()
    assert world.quinn.role == "admin" and world.quinn.is_active and world.quinn.session_epoch == 0
    key.refresh_from_db()
    assert key.revoked_at is None
    assert ApiKey.objects.for_org(world.provider_b).filter(name="evil").count() == 0
    assert AuditEvent.objects.filter(action="access.denied", actor_user=getattr(world, persona)).exists()


def test_anonymous_visitors_are_sent_to_login(world, client):
    pages, _ = _consortium_admin_pages(world)
    for method, url, data in pages + [("get", reverse("accounts:api_keys"), {})]:
        r = getattr(client, method)(url, data)
        assert r.status_code == 302 and r["Location"].startswith(reverse("account_login")), url


def test_the_consortium_admin_gets_404_for_missing_objects(world, as_user):
    c = as_user(world.alice)
    assert c.get(reverse("accounts:org_detail", args=[99999])).status_code == 404
    assert c.post(reverse("accounts:user_unlock", args=[99999])).status_code == 404
    assert c.post(reverse("accounts:org_key_revoke", args=[world.provider_a.pk, 99999])).status_code == 404
    # a key named under the wrong organisation is not found either
    key = accounts.issue_api_key(actor=None, organisation=world.provider_b, name="k", scopes=["ingest"]).api_key
    assert c.post(reverse("accounts:org_key_revoke", args=[world.provider_a.pk, key.pk])).status_code == 404


PAIRS = [("pat", "quinn", "provider_a", "provider_b"), ("rita", "sam", "reporter_a", "reporter_b"), ("dana", "omar", "agency_a", "agency_b")]


@pytest.mark.parametrize("me, other, my_org, other_org", PAIRS)
def test_an_org_admin_sees_and_revokes_only_their_own_keys(world, as_user, me, other, my_org, other_org):
    mine = accounts.issue_api_key(actor=None, organisation=getattr(world, my_org), name="mine-key", scopes=["ingest"]).api_key
    theirs = accounts.issue_api_key(actor=None, organisation=getattr(world, other_org), name="their-key", scopes=["ingest"]).api_key
    c = as_user(getattr(world, me))
    page = c.get(reverse("accounts:api_keys")).content.decode()
    assert "mine-key" in page and "their-key" not in page
    assert c.post(reverse("accounts:api_key_revoke", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert c.post(reverse("accounts:api_key_revoke", args=[mine.pk])).status_code == 302
    mine.refresh_from_db()
    assert mine.revoked_at is not None


def test_the_consortium_api_keys_page_lists_only_its_own_keys(world, as_user):
    accounts.issue_api_key(actor=None, organisation=world.provider_b, name="their-key", scopes=["ingest"])
    page = as_user(world.alice).get(reverse("accounts:api_keys")).content.decode()
    assert "their-key" not in page


def test_members_cannot_use_the_api_keys_page(world, as_user):
    member = accounts.create_user(actor=None, organisation=world.reporter_a, email="m@reporter-a.test",
                                  password="gravel orchid kettle umbra", role="member")
    key = accounts.issue_api_key(actor=None, organisation=world.reporter_a, name="k", scopes=["ingest"]).api_key
    c = as_user(member)
    assert c.get(reverse("accounts:api_keys")).status_code == 403
    assert c.post(reverse("accounts:api_keys"), {"name": "x", "scopes": ["ingest"]}).status_code == 403
    assert c.post(reverse("accounts:api_key_revoke", args=[key.pk])).status_code == 403


def test_issuing_shows_the_secret_once(world, as_user):
    c = as_user(world.rita)
    r = c.post(reverse("accounts:api_keys"), {"name": "CDR feed", "scopes": ["ingest"]})
    assert r.status_code == 200
    assert r["Cache-Control"] == "no-store" or "no-store" in r["Cache-Control"]
    body = r.content.decode()
    key = ApiKey.objects.for_org(world.reporter_a).get(name="CDR feed")
    secret = body.split('id="api-key-secret">', 1)[1].split("<", 1)[0]
    assert secret.startswith(key.prefix)
    # usable at once, and never shown again
    assert c.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    assert secret not in c.get(reverse("accounts:api_keys")).content.decode()
    assert secret not in AuditEvent.objects.filter(action="api_key.issued").last().data.__repr__()


def test_issuing_without_scopes_is_explained(world, as_user):
    r = as_user(world.rita).post(reverse("accounts:api_keys"), {"name": "no scopes"})
    assert r.status_code == 400
    assert "required" in r.content.decode()


def test_a_consortium_admin_issues_and_revokes_keys_for_any_organisation(world, as_user):
    c = as_user(world.alice)
    r = c.post(reverse("accounts:org_key_issue", args=[world.provider_b.pk]), {"name": "switch", "scopes": ["traceback:respond"]})
    assert r.status_code == 200 and 'id="api-key-secret"' in r.content.decode()
    key = ApiKey.objects.for_org(world.provider_b).get(name="switch")
    assert "switch" in c.get(reverse("accounts:org_detail", args=[world.provider_b.pk])).content.decode()
    assert c.post(reverse("accounts:org_key_revoke", args=[world.provider_b.pk, key.pk])).status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert AuditEvent.objects.filter(action="api_key.revoked", object_id=str(key.pk), actor_user=world.alice).exists()

from __future__ import annotations

from django.utils import timezone

from robotrace.accounts import services as accounts
from robotrace.accounts.models import ApiKey
from robotrace.audit.models import AuditEvent
from robotrace.conftest import bearer


def test_a_key_is_shown_once_and_stored_hashed(world):
    issued = accounts.issue_api_key(actor=world.rita, organisation=world.reporter_a, name="feed", scopes=["ingest"])
    assert issued.secret.startswith("rt_ingest_")
    key = ApiKey.objects.for_org(world.reporter_a).get()
    assert issued.secret not in (key.key_hash, key.prefix)
    assert AuditEvent.objects.filter(action="api_key.issued", object_id=str(key.id)).exists()


def test_a_valid_key_authenticates(client, world, api_key):
    secret = api_key(world.reporter_a, ["ingest"])
    r = client.get("/api/v1/me", **bearer(secret))
    assert r.status_code == 200
    assert r.json()["organisation"] == "reporter-a"
    assert ApiKey.objects.for_org(world.reporter_a).get().last_used_at is not None


def test_a_bad_key_gets_401_json(client, world):
    r = client.get("/api/v1/me", **bearer("rt_ingest_not-a-real-key-at-all"))
    assert r.status_code == 401
    assert r["Content-Type"] == "application/problem+json"
    r = client.get("/api/v1/me")
    assert r.status_code == 401


def test_a_revoked_key_gets_401(client, world, api_key):
    secret = api_key(world.reporter_a, ["ingest"])
    key = ApiKey.objects.for_org(world.reporter_a).get()
    accounts.revoke_api_key(actor=world.rita, organisation=world.reporter_a, key_id=key.id)
    assert client.get("/api/v1/me", **bearer(secret)).status_code == 401


def test_a_key_with_a_wrong_secret_but_right_prefix_gets_401(client, world, api_key):
    secret = api_key(world.reporter_a, ["ingest"])
    forged = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
    assert client.get("/api/v1/me", **bearer(forged)).status_code == 401


def test_another_organisation_cannot_revoke_my_key(world, api_key):
    import pytest

    api_key(world.reporter_a, ["ingest"])
    key = ApiKey.objects.for_org(world.reporter_a).get()
    with pytest.raises(ApiKey.DoesNotExist):
        accounts.revoke_api_key(actor=world.sam, organisation=world.reporter_b, key_id=key.id)
    key.refresh_from_db()
    assert key.revoked_at is None


def test_key_lists_never_show_other_organisations(client, world, api_key):
    mine = api_key(world.reporter_a, ["accounts:read"])
    api_key(world.reporter_b, ["accounts:read"])
    r = client.get("/api/v1/api-keys", **bearer(mine))
    assert r.status_code == 200
    assert len(r.json()) == 1


def test_it_answers_403_json_to_a_key_without_the_routes_scope(client, world, api_key):
    secret = api_key(world.reporter_a, ["ingest"])
    r = client.get("/api/v1/api-keys", **bearer(secret))
    assert r.status_code == 403
    assert r["Content-Type"] == "application/problem+json"
    assert "accounts:read" in r.json()["detail"]
    # the same key still works where no scope is needed
    assert client.get("/api/v1/me", **bearer(secret)).status_code == 200


def test_a_signed_in_person_needs_no_key_scope(world, as_user):
    assert as_user(world.rita).get("/api/v1/api-keys").status_code == 200


def test_it_refuses_a_key_of_the_wrong_organisation_kind(client, world, api_key):
    from robotrace.accounts.apiauth import ApiKeyAuth
    from robotrace.core.problems import ApiProblem

    secret = api_key(world.reporter_a, ["traceback:respond"])
    request = __import__("django.test", fromlist=["RequestFactory"]).RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    import pytest

    with pytest.raises(ApiProblem) as exc:
        ApiKeyAuth(scope="traceback:respond", kinds=("provider",))(request)
    assert exc.value.status == 403


def test_an_admin_of_another_organisation_cannot_revoke_by_naming_mine(world, api_key):
    import pytest

    api_key(world.reporter_a, ["ingest"])
    key = ApiKey.objects.for_org(world.reporter_a).get()
    with pytest.raises(ApiKey.DoesNotExist):
        accounts.revoke_api_key(actor=world.sam, organisation=world.reporter_a, key_id=key.id)
    key.refresh_from_db()
    assert key.revoked_at is None


def test_revocation_is_immediate(client, world, api_key):
    secret = api_key(world.reporter_a, ["ingest"])
    ApiKey.objects.for_org(world.reporter_a).update(revoked_at=timezone.now())
    assert client.get("/api/v1/me", **bearer(secret)).status_code == 401

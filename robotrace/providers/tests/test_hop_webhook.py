"""A provider registers its own webhook for hop requests: the secret is shown once, kept
sealed, signs what is sent; other organisations can neither see nor change it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.db import connection

from robotrace.audit.models import AuditEvent
from robotrace.core.webhooks import verify
from robotrace.providers import conf as traceback_conf
from robotrace.providers import services
from robotrace.providers.models import Provider
from robotrace.tracebacks.tests.factories import make_net, open_tb
from robotrace.tracebacks.tests.test_webhooks import Receiver


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _shown_secret(page: bytes) -> str:
    match = re.search(rb"whsec_[A-Za-z0-9+/=]+", page)
    assert match, "the secret page shows the new secret"
    return match.group().decode()


def _raw_secret(provider: Provider) -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT webhook_secret FROM providers_provider WHERE id = %s", [provider.pk])
        return str(cur.fetchone()[0])


def test_a_provider_registers_its_webhook_and_hop_requests_arrive_signed_with_the_secret_it_was_shown(
    world: Any, as_user: Any, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    net = make_net(world)
    pat = as_user(world.pat)
    assert pat.get("/providers/webhook/").status_code == 200
    page = pat.post("/providers/webhook/set/", {"url": receiver.url})
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    secret = _shown_secret(page.content)

    net.term.refresh_from_db()
    assert net.term.webhook_url == receiver.url and net.term.webhook_secret == secret
    raw = _raw_secret(net.term)
    assert raw.startswith("aes256gcm:v1:") and secret not in raw  # sealed at rest
    assert secret.encode() not in pat.get("/providers/webhook/").content  # shown once only

    with django_capture_on_commit_callbacks(execute=True):
        open_tb(world)
    [(headers, body)] = receiver.received
    assert verify(secret, headers, body) and json.loads(body)["type"] == "hop.requested"

    event = AuditEvent.objects.get(action="provider.hop_webhook_set")
    assert event.data["url"] == receiver.url and secret not in json.dumps(event.data)


def test_rotating_issues_a_new_secret_and_removing_stops_webhook_delivery(world: Any, as_user: Any, receiver: Receiver) -> None:
    net = make_net(world)
    pat = as_user(world.pat)
    first = _shown_secret(pat.post("/providers/webhook/set/", {"url": receiver.url}).content)
    second = _shown_secret(pat.post("/providers/webhook/rotate/").content)
    assert first != second
    net.term.refresh_from_db()
    assert net.term.webhook_secret == second and net.term.webhook_secret_set_at is not None

    response = pat.post("/providers/webhook/ping/", follow=True)
    assert b"Test message delivered (HTTP 204)" in response.content
    [(headers, body)] = receiver.received
    assert verify(second, headers, body) and json.loads(body)["type"] == "ping"

    pat.post("/providers/webhook/remove/")
    net.term.refresh_from_db()
    assert (net.term.webhook_url, net.term.webhook_secret, _raw_secret(net.term)) == ("", "", "")
    actions = set(AuditEvent.objects.filter(action__startswith="provider.hop_webhook").values_list("action", flat=True))
    assert actions == {"provider.hop_webhook_set", "provider.hop_webhook_secret_rotated", "provider.hop_webhook_pinged", "provider.hop_webhook_removed"}


def test_each_provider_reaches_only_its_own_webhook(world: Any, as_user: Any, receiver: Receiver) -> None:
    net = make_net(world)
    services.set_hop_webhook(actor=world.pat, organisation=world.provider_a, url=receiver.url)
    quinn = as_user(world.quinn)
    assert receiver.url.encode() not in quinn.get("/providers/webhook/").content  # Bravo's page shows Bravo's (none)
    quinn.post("/providers/webhook/remove/")  # removes Bravo's own, not Alpha's
    net.term.refresh_from_db()
    assert net.term.webhook_url == receiver.url
    quinn.post("/providers/webhook/set/", {"url": receiver.url + "/bravo"})
    net.term.refresh_from_db()
    net.transit.refresh_from_db()
    assert net.term.webhook_url == receiver.url and net.transit.webhook_url == receiver.url + "/bravo"


def test_other_kinds_of_organisation_and_non_admins_are_refused(world: Any, as_user: Any) -> None:
    from robotrace.conftest import make_user

    make_net(world)
    for user in (world.alice, world.carol, world.rita, world.dana):
        client = as_user(user)
        assert client.get("/providers/webhook/").status_code == 403
        for action in ("set", "rotate", "remove", "ping"):
            assert client.post(f"/providers/webhook/{action}/", {"url": "https://x.example/h"}).status_code == 403
    assert as_user(world.pat).post("/providers/webhook/bogus/").status_code == 404
    member = as_user(make_user(world.provider_a, "member@provider-a.test", "member"))
    assert member.get("/providers/webhook/").status_code == 403
    assert member.post("/providers/webhook/set/", {"url": "https://x.example/h"}).status_code == 403
    assert Provider.objects.exclude(webhook_url="").count() == 0


def test_webhook_addresses_must_be_public_https_outside_development(world: Any, as_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    net = make_net(world)
    monkeypatch.setattr(traceback_conf, "WEBHOOK_ALLOW_INSECURE", False)
    pat = as_user(world.pat)
    for url in ("http://fraud.example.net/h", "https://127.0.0.1/h", "https://10.1.2.3/h", "https://localhost/h", "ftp://x"):
        response = pat.post("/providers/webhook/set/", {"url": url}, follow=True)
        assert b"Webhook not changed" in response.content
    net.term.refresh_from_db()
    assert net.term.webhook_url == ""
    assert _shown_secret(pat.post("/providers/webhook/set/", {"url": "https://fraud.example.net/h"}).content)


def test_a_provider_without_a_registry_record_is_told_so(world: Any, as_user: Any) -> None:
    Provider.objects.filter(organisation=world.provider_a).update(organisation=None)
    pat = as_user(world.pat)
    assert b"not linked to its record" in pat.get("/providers/webhook/").content
    response = pat.post("/providers/webhook/set/", {"url": "https://fraud.example.net/h"}, follow=True)
    assert b"no registry record yet" in response.content


def test_the_hop_inbox_points_admins_to_the_webhook_page(world: Any, as_user: Any) -> None:
    from robotrace.conftest import make_user

    make_net(world)
    assert b'href="/providers/webhook/"' in as_user(world.pat).get("/tracebacks/inbox/").content
    member = as_user(make_user(world.provider_a, "mo@provider-a.test", "member"))
    assert b'href="/providers/webhook/"' not in member.get("/tracebacks/inbox/").content

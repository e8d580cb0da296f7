"""Shared personas across two organisations of every kind (healthchecks' Alice/Bob/Charlie).

- consortium: `alice` (admin), `carol` (analyst, member)
- providers: `pat` at provider A, `quinn` at provider B
- reporters: `rita` at reporter A, `sam` at reporter B
- agencies: `dana` at agency A (NC), `omar` at agency B (OH)

`login(client, user)` signs a person in as the real login would leave them (session stamps,
a TOTP authenticator for kinds that need one). `api_key(org, scopes)` issues a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from robotrace.accounts import services as accounts
from robotrace.accounts.models import Organisation, User

PASSWORD = "long-passphrase-Heron-seventy7"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@dataclass
class World:
    consortium: Organisation
    provider_a: Organisation
    provider_b: Organisation
    reporter_a: Organisation
    reporter_b: Organisation
    agency_a: Organisation
    agency_b: Organisation
    alice: User
    carol: User
    pat: User
    quinn: User
    rita: User
    sam: User
    dana: User
    omar: User

    def orgs(self) -> list[Organisation]:
        return [self.consortium, self.provider_a, self.provider_b, self.reporter_a, self.reporter_b, self.agency_a, self.agency_b]


def make_user(org: Organisation, email: str, role: str = "admin", **kw: Any) -> User:
    user = accounts.create_user(actor=None, organisation=org, email=email, password=PASSWORD, role=role, **kw)
    if user.needs_mfa:
        from allauth.mfa.totp.internal.auth import TOTP

        TOTP.activate(user, TOTP_SECRET)
    return user


@pytest.fixture
def world(db: Any) -> World:
    org = accounts.create_organisation
    consortium = org(actor=None, name="Test Consortium", kind="consortium", slug="consortium")
    provider_a = org(actor=None, name="Provider Alpha", kind="provider", slug="provider-a", frn="0000000001", ocn="PA01")
    provider_b = org(actor=None, name="Provider Bravo", kind="provider", slug="provider-b", frn="0000000002", ocn="PB02")
    reporter_a = org(actor=None, name="Reporter Alpha", kind="reporter", slug="reporter-a", reporter_type="carrier_analytics")
    reporter_b = org(actor=None, name="Reporter Bravo", kind="reporter", slug="reporter-b", reporter_type="blocking_app")
    agency_a = org(actor=None, name="Agency Alpha", kind="agency", slug="agency-a", agency_level="state", jurisdiction=["NC"])
    agency_b = org(actor=None, name="Agency Bravo", kind="agency", slug="agency-b", agency_level="state", jurisdiction=["OH"])
    return World(
        consortium=consortium,
        provider_a=provider_a,
        provider_b=provider_b,
        reporter_a=reporter_a,
        reporter_b=reporter_b,
        agency_a=agency_a,
        agency_b=agency_b,
        alice=make_user(consortium, "alice@consortium.test", "admin"),
        carol=make_user(consortium, "carol@consortium.test", "member"),
        pat=make_user(provider_a, "pat@provider-a.test"),
        quinn=make_user(provider_b, "quinn@provider-b.test"),
        rita=make_user(reporter_a, "rita@reporter-a.test"),
        sam=make_user(reporter_b, "sam@reporter-b.test"),
        dana=make_user(agency_a, "dana@agency-a.test"),
        omar=make_user(agency_b, "omar@agency-b.test"),
    )


def login(client: Client, user: User) -> Client:
    """Sign in as the full login flow would: session stamps set by the user_logged_in signal,
    and, for a person with an authenticator, the second factor passed (force_login checks no
    code, so the receiver marks it missing; the real flow is tested in accounts/tests)."""
    from allauth.mfa.utils import is_mfa_enabled

    from robotrace.accounts.middleware import SECOND_FACTOR_PASSED, SESSION_SECOND_FACTOR

    client.force_login(user, backend="robotrace.accounts.backends.PolicyModelBackend")
    if is_mfa_enabled(user):
        session = client.session
        session[SESSION_SECOND_FACTOR] = SECOND_FACTOR_PASSED
        session.save()
    return client


@pytest.fixture
def as_user(client: Client):
    def _as(user: User) -> Client:
        c = Client()
        return login(c, user)

    return _as


@pytest.fixture
def api_key():
    def _issue(org: Organisation, scopes: list[str]) -> str:
        return accounts.issue_api_key(actor=None, organisation=org, name="test", scopes=scopes).secret

    return _issue


def bearer(secret: str) -> dict[str, Any]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def migrate(targets: list[tuple[str, str]] | None) -> Any:
    """Migrate the test database to `targets` and return the app registry of that state, for
    writing rows as they were before a data migration; `None` migrates forward to the latest
    state again (and returns None). Tests that call it need django_db(transaction=True)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    return executor.loader.project_state(targets).apps if targets else None


@pytest.fixture(autouse=True)
def _isolated_files(settings: Any, tmp_path: Any) -> None:
    """Every test writes uploads and exports under its own temporary folder."""
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = media
    # Audit anchors too: `audit verify` reads every anchor in its folder.
    settings.AUDIT_ANCHOR_DIR = tmp_path / "audit-anchors"
    settings.STORAGES = {**settings.STORAGES, "audit_anchors": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(settings.AUDIT_ANCHOR_DIR)},
    }}


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty cache: ids repeat between tests (their transactions roll
    back), so counters kept under them (audited denials per actor, used TOTP codes) would leak."""
    from django.core.cache import cache

    cache.clear()


class Receiver:
    """A real HTTP endpoint on 127.0.0.1 that records what it is POSTed (lower-cased headers,
    body) and answers with `status` (and `location`, for redirects)."""

    def __init__(self, status: int = 204, location: str = ""):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.status = status
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                if location:
                    self.send_header("Location", location)
                self.end_headers()

            def log_message(self, *a: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()

"""The demo world `make run` starts with: organisations of every kind, people, API keys and
authenticators. Apps add their own demo data with core.demo.register_seeder (run in order
after the organisations exist). Secrets of demo keys are kept in var/demo-credentials.json so
the simulator can use them and `make run` can print them again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from robotrace.accounts import queries as accounts_queries
from robotrace.accounts import services as accounts
from robotrace.core.demo import DemoWorld, run_seeders

DEMO_PASSWORD = "demo-Kestrel-lantern-42"
# Fixed so a person can add it to an authenticator app once; demo only.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def credentials_path() -> Path:
    return Path(settings.VAR_DIR) / "demo-credentials.json"


ORGS: list[dict[str, Any]] = [
    {"slug": "itc", "name": "Industry Traceback Consortium", "kind": "consortium"},
    {"slug": "keystone-voice", "name": "Keystone Voice", "kind": "provider", "frn": "0012345678", "ocn": "KV01", "spc": "KV01"},
    {"slug": "northgate-networks", "name": "Northgate Networks", "kind": "provider", "frn": "0023456789", "ocn": "NG02", "spc": "NG02"},
    {"slug": "keystone-analytics", "name": "Keystone Voice Analytics", "kind": "reporter", "reporter_type": "carrier_analytics"},
    {"slug": "callshield", "name": "CallShield App", "kind": "reporter", "reporter_type": "blocking_app"},
    {"slug": "honeynet", "name": "Honeynet Labs", "kind": "reporter", "reporter_type": "honeypot"},
    {"slug": "complaints", "name": "Public Complaint Importer", "kind": "reporter", "reporter_type": "complaint_importer"},
    {"slug": "nc-doj", "name": "North Carolina Department of Justice", "kind": "agency", "agency_level": "state", "jurisdiction": ["NC"], "main_phone": "+19197166400"},
    {"slug": "ohio-ago", "name": "Ohio Attorney General", "kind": "agency", "agency_level": "state", "jurisdiction": ["OH"], "main_phone": "+16144663376"},
    {"slug": "ftc", "name": "Federal Trade Commission", "kind": "agency", "agency_level": "federal", "jurisdiction": [], "main_phone": "+12023262222"},
]

USERS: list[dict[str, str]] = [
    {"email": "alice@itc.example", "org": "itc", "role": "admin", "first_name": "Alice", "title": "Traceback operations lead"},
    {"email": "carol@itc.example", "org": "itc", "role": "member", "first_name": "Carol", "title": "Analyst"},
    {"email": "pat@keystone.example", "org": "keystone-voice", "role": "admin", "first_name": "Pat", "title": "Fraud desk"},
    {"email": "quinn@northgate.example", "org": "northgate-networks", "role": "admin", "first_name": "Quinn", "title": "Network security"},
    {"email": "rita@keystone-analytics.example", "org": "keystone-analytics", "role": "admin", "first_name": "Rita"},
    {"email": "sam@callshield.example", "org": "callshield", "role": "admin", "first_name": "Sam"},
    {"email": "dana@ncdoj.example", "org": "nc-doj", "role": "admin", "first_name": "Dana", "title": "Assistant Attorney General"},
    {"email": "omar@ohioago.example", "org": "ohio-ago", "role": "admin", "first_name": "Omar", "title": "Investigator"},
    {"email": "fran@ftc.example", "org": "ftc", "role": "member", "first_name": "Fran", "title": "Staff attorney"},
]

KEY_SCOPES = {
    "reporter": ["ingest"],
    "provider": ["traceback:respond", "traceback:read"],
    "agency": ["legal:read", "legal:write", "alerts:read", "alerts:write", "campaigns:read"],
}


def seed(*, force: bool = False) -> DemoWorld | None:
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP

    if accounts_queries.any_organisation() and not force:
        return None
    world = DemoWorld()
    with transaction.atomic():
        for spec in ORGS:
            spec = dict(spec)
            world.orgs[spec["slug"]] = accounts.create_organisation(actor=None, **spec)
        for spec in USERS:
            org = world.orgs[spec["org"]]
            user = accounts.create_user(
                actor=None,
                organisation=org,
                email=spec["email"],
                password=DEMO_PASSWORD,
                role=spec["role"],
                first_name=spec.get("first_name", ""),
                title=spec.get("title", ""),
            )
            if org.kind in ("consortium", "agency"):
                user.verification_method = accounts_queries.Verification.CALLBACK if org.is_agency else ""
                user.verification_notes = "Demo account: verified by call-back to the agency's main number." if org.is_agency else ""
                user.save()
                TOTP.activate(user, DEMO_TOTP_SECRET)
                RecoveryCodes.activate(user)
            world.users[spec["email"]] = user
        # An agency request waiting for approval, to show the vetting queue.
        accounts.create_user(
            actor=None,
            organisation=world.orgs["ohio-ago"],
            email="new.investigator@ohioago.example",
            password=DEMO_PASSWORD,
            role="member",
            approval=accounts_queries.Approval.PENDING,
            first_name="Nia",
            title="Investigator (requested access)",
        )
        for slug, org in world.orgs.items():
            scopes = KEY_SCOPES.get(org.kind)
            if scopes:
                issued = accounts.issue_api_key(actor=None, organisation=org, name="Demo key", scopes=scopes)
                world.keys[slug] = issued.secret
    credentials_path().write_text(json.dumps({"password": DEMO_PASSWORD, "totp_secret": DEMO_TOTP_SECRET, "keys": world.keys}, indent=2))
    run_seeders(world)
    return world


def load_credentials() -> dict[str, Any]:
    path = credentials_path()
    return json.loads(path.read_text()) if path.exists() else {}


def current_totp(secret: str = DEMO_TOTP_SECRET) -> str:
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // settings.MFA_TOTP_PERIOD))

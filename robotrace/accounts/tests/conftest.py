"""Helpers for driving the real login flow (banner, password, TOTP) through the test client."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.mfa.totp.internal import auth as totp_auth
from django.test import Client
from django.urls import reverse

from robotrace.conftest import PASSWORD, TOTP_SECRET

# One fixed time step for every TOTP check in a test, so a code computed by the test is
# never rejected because the 30-second window turned over between computing and posting.
COUNTER = 58_000_000


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Used TOTP codes and the access-request limit live in the cache: start each test clean."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def fixed_totp(monkeypatch: Any) -> Any:
    monkeypatch.setattr(totp_auth, "yield_hotp_counters_from_time", lambda: iter([COUNTER]))

    def code(counter: int = COUNTER, secret: str = TOTP_SECRET) -> str:
        return totp_auth.format_hotp_value(totp_auth.hotp_value(secret, counter))

    return code


def post_password(client: Client, email: str, password: str = PASSWORD, *, acknowledge: bool = True) -> Any:
    data = {"login": email, "password": password}
    if acknowledge:
        data["acknowledge_banner"] = "on"
    return client.post(reverse("account_login"), data)


def full_login(client: Client, email: str, code: str | None, password: str = PASSWORD) -> Any:
    """Password, then (when asked) the authenticator code, like a person at the login page."""
    r = post_password(client, email, password)
    if r.status_code == 302 and r["Location"].startswith(reverse("mfa_authenticate")):
        r = client.post(reverse("mfa_authenticate"), {"code": code or ""})
    return r


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session

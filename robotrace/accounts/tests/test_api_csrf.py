"""A signed-in browser session writing through the API passes Django's CSRF check, as a form
does; an API key is not a browser credential and needs none (#20 finding 10)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client

from robotrace.conftest import bearer, login
from robotrace.legal.models import LegalRequest
from robotrace.legal.tests.test_api import _payload

EVIL: dict[str, Any] = {"HTTP_ORIGIN": "https://evil.example"}


def _browser(user) -> tuple[Client, str]:
    client = login(Client(enforce_csrf_checks=True), user)
    token = _get_new_csrf_string()
    client.cookies[settings.CSRF_COOKIE_NAME] = token
    return client, token


def test_a_session_post_from_a_foreign_origin_without_the_token_is_refused(world) -> None:
    browser, _ = _browser(world.omar)
    r = browser.post("/api/v1/legal/requests", _payload(), content_type="application/json", **EVIL)
    assert r.status_code == 403 and r["Content-Type"] == "application/problem+json", r.content
    assert r.json()["title"] == "CSRF check failed" and "X-CSRFToken" in r.json()["detail"]
    r = browser.post("/api/v1/legal/requests", _payload(), content_type="application/json")
    assert r.status_code == 403  # no token, no Origin: refused too
    assert not LegalRequest.objects.for_org(world.agency_b).exists()
    # Reading needs no token.
    assert browser.get("/api/v1/legal/requests", **EVIL).status_code == 200


def test_a_session_post_with_the_token_passes(world) -> None:
    browser, token = _browser(world.omar)
    r = browser.post("/api/v1/legal/requests", _payload(), content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert r.status_code == 201, r.content


def test_an_api_key_needs_no_csrf_token(world, api_key) -> None:
    key = bearer(api_key(world.agency_b, ["legal:read", "legal:write"]))
    r = Client(enforce_csrf_checks=True).post("/api/v1/legal/requests", _payload(), content_type="application/json", **key, **EVIL)
    assert r.status_code == 201, r.content

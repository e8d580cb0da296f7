"""Browser tests: Playwright for Python driving Debian's Chromium against `live_server`.

Reusable fixtures for every app's flows:

- `browser_page`: a fresh Playwright page (own cookies) with `base_url` set to the live server;
- `login_as(email)`: signs that person in through the real pages (banner, password and,
  when their organisation needs one, the authenticator code) and returns the page;
- `e2e_world`: the shared personas (see robotrace/conftest.py) in a database the live
  server thread can see.

Everything skips cleanly where /usr/bin/chromium (or Playwright) is missing. Each xdist
worker runs its own live server and browser, so `pytest -n 2` works; so does PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("ROBOTRACE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]

# Text that only appears on our error pages (or Django's technical ones).
ERROR_MARKERS = ("Something went wrong", "Server Error (500)", "Traceback (most recent call last)", "TemplateSyntaxError",
                 "OperationalError", "ProgrammingError")


def _playwright_or_skip() -> Any:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    return sync_playwright


@pytest.fixture(scope="module")
def _browser() -> Iterator[Any]:
    """One Chromium per test module. Module scope, not session: Playwright's sync API keeps
    an asyncio loop running in this thread while it is open, which would break any later
    test (of any app, on the same xdist worker) that calls asyncio.run()."""
    sync_playwright = _playwright_or_skip()
    # While the loop runs, Django refuses ORM calls as "async"; the tests' ORM calls between
    # browser steps are plain synchronous code, so allow them for this module only.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def _static_from_source(settings: Any) -> None:
    """Serve robotrace/static through the finders (the live server does not collectstatic)."""
    source = Path(settings.BASE_DIR) / "robotrace" / "static"
    dirs = [str(d) for d in getattr(settings, "STATICFILES_DIRS", [])]
    if str(source) not in dirs:
        settings.STATICFILES_DIRS = [*dirs, str(source)]


@pytest.fixture
def totp_clock(monkeypatch: Any) -> Callable[[], int]:
    """A TOTP time step that moves on by one for every code typed, so codes are always
    current and never a replay of one used earlier in the test (each is accepted once)."""
    from allauth.mfa.totp.internal import auth as totp_auth

    state = {"counter": 60_000_000}
    monkeypatch.setattr(totp_auth, "yield_hotp_counters_from_time", lambda: iter([state["counter"]]))

    def next_counter() -> int:
        state["counter"] += 1
        return state["counter"]

    return next_counter


@pytest.fixture
def browser_page(_browser: Any, live_server: Any, _static_from_source: None) -> Iterator[Any]:
    context = _browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def e2e_world(transactional_db: None, world: Any) -> Any:
    from django.core.cache import cache

    cache.clear()  # used TOTP codes and request limits from earlier tests in this process
    return world


@pytest.fixture
def login_as(browser_page: Any, totp_clock: Callable[[], int]) -> Callable[..., Any]:
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    from robotrace.conftest import PASSWORD, TOTP_SECRET

    def _login(email: str, password: str = PASSWORD, totp_secret: str = TOTP_SECRET) -> Any:
        page = browser_page
        page.goto("/accounts/login/")
        page.fill("#id_login", email)
        page.fill("#id_password", password)
        page.check("#id_acknowledge_banner")
        page.click("form.auth-form button[type=submit]")
        page.wait_for_load_state()
        if "/accounts/2fa/authenticate/" in page.url:
            code = format_hotp_value(hotp_value(totp_secret, totp_clock()))
            page.fill("input[name=code]", code)
            page.click("form button[type=submit]")
            page.wait_for_load_state()
        assert "/accounts/login/" not in page.url, f"login failed for {email}: {page.inner_text('main')[:400]}"
        return page

    return _login


def assert_page_ok(page: Any, response: Any, what: str) -> None:
    """The page answered without an HTTP error and shows no error text."""
    assert response is not None, what
    assert response.status < 400, f"{what}: HTTP {response.status}"
    body = page.inner_text("body")
    for marker in ERROR_MARKERS:
        assert marker not in body, f"{what}: shows {marker!r}"

"""Content-Security-Policy (#20 finding 2): no template carries code or inline style, the policy
is strict on every page, violations are logged (bounded), and the other response headers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]  # robotrace/
TEMPLATES = sorted(p for p in ROOT.glob("**/templates/**/*.html") if ".venv" not in p.parts)

SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.I | re.S)
TAG = re.compile(r"<[a-zA-Z][^<>]*>")
# Attributes that carry code: event handlers, Alpine.js directives and shorthands, htmx's hx-on.
CODE_ATTRIBUTE = re.compile(r"""\s(on[a-z]+|x-[a-z][\w:.-]*|@[a-z][\w.:-]*|:[a-z][\w-]*|hx-on[\w:-]*)\s*=""", re.I)

STRICT = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "report-uri": "/csp-report",
}


def _policy(header: str) -> dict[str, str]:
    out = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            out[name] = value.strip()
    return out


def test_it_finds_the_templates():
    assert len(TEMPLATES) > 100


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_carries_script_or_inline_style(path: Path):
    text = path.read_text()
    for attrs, body in SCRIPT.findall(text):
        assert "src=" in attrs and not body.strip(), f"inline <script> in {path.name}: move it to static/js"
    assert "javascript:" not in text.lower()
    assert not re.search(r"<style\b", text, re.I), f"<style> element in {path.name}: move it to static/css"
    for tag in TAG.findall(text):
        assert not CODE_ATTRIBUTE.search(tag), f"code in an attribute in {path.name}: {tag[:120]}"
        assert not re.search(r"\sstyle\s*=", tag, re.I), f"style attribute in {path.name}: {tag[:120]}"


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_template_comments_close_on_their_line(path: Path):
    # Django's {# #} comment is one line only; an unclosed one prints the rest as page markup.
    for n, line in enumerate(path.read_text().splitlines(), 1):
        assert line.count("{#") <= line.count("#}"), f"{path.name}:{n}: use {{% comment %}} for a comment over several lines"


def test_the_policy_is_strict_on_a_signed_in_page(world, as_user):
    response = as_user(world.alice).get(reverse("home"))
    assert response.status_code == 200
    assert _policy(response["Content-Security-Policy"]) == STRICT
    assert "Content-Security-Policy-Report-Only" not in response


def test_the_policy_is_sent_before_sign_in_too(db):
    response = Client().get(reverse("account_login"))
    assert _policy(response["Content-Security-Policy"]) == STRICT


def test_the_report_only_phase_is_chosen_by_an_environment_variable(tmp_path):
    code = "from django.conf import settings as s; import json; print(json.dumps([bool(getattr(s, 'CONTENT_SECURITY_POLICY', None)), bool(getattr(s, 'CONTENT_SECURITY_POLICY_REPORT_ONLY', None))]))"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "robotrace.settings", "ROBOTRACE_VAR_DIR": str(tmp_path), "CSP_REPORT_ONLY": "1"}
    run = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code], env=env, capture_output=True, text=True, check=True)
    assert json.loads(run.stdout) == [False, True]
    env["CSP_REPORT_ONLY"] = "0"
    run = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code], env=env, capture_output=True, text=True, check=True)
    assert json.loads(run.stdout) == [True, False]


def test_the_demo_runs_in_the_report_only_phase():
    import inspect
    from importlib import import_module

    from django.core.management import get_commands

    command = import_module(f"{get_commands()['run']}.management.commands.run")
    assert 'env.setdefault("CSP_REPORT_ONLY", "1")' in inspect.getsource(command)


def test_every_response_says_which_browser_features_are_off(db):
    response = Client().get(reverse("healthz"))
    assert response["Permissions-Policy"] == "camera=(), microphone=(), geolocation=(), payment=()"


def test_signed_in_pages_and_api_answers_are_not_stored(world, as_user, api_key):
    assert "no-store" in as_user(world.carol).get(reverse("home"))["Cache-Control"]
    key = api_key(world.reporter_a, ["ingest"])
    answer = Client().get("/api/v1/uploads", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert "no-store" in answer["Cache-Control"]
    assert "no-store" not in Client().get(reverse("healthz")).get("Cache-Control", "")


# --- violation reports ---------------------------------------------------------------------


def _report(client: Client, body: object, **extra: Any):
    return client.post(reverse("csp_report"), data=json.dumps(body), content_type="application/csp-report", **extra)


VIOLATION = {"csp-report": {"document-uri": "http://testserver/shaken/", "effective-directive": "script-src-elem", "blocked-uri": "inline",
                            "source-file": "http://testserver/shaken/", "line-number": 63, "disposition": "enforce"}}


@pytest.fixture
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_it_logs_a_violation_report_from_anyone(db, fresh_cache, caplog):
    with caplog.at_level("WARNING", logger="robotrace.csp"):
        response = _report(Client(enforce_csrf_checks=True), VIOLATION)
    assert response.status_code == 204
    [line] = [r.getMessage() for r in caplog.records if r.name == "robotrace.csp"]
    assert "directive='script-src-elem'" in line and "blocked='inline'" in line and "line='63'" in line


def test_it_reads_reporting_api_batches(db, fresh_cache, caplog):
    batch = [{"type": "csp-violation", "body": {"documentURL": "http://testserver/", "effectiveDirective": "style-src-attr", "blockedURL": "inline"}},
             {"type": "deprecation", "body": {"id": "x"}}]
    with caplog.at_level("WARNING", logger="robotrace.csp"):
        assert _report(Client(), batch).status_code == 204
    assert [r.getMessage() for r in caplog.records if r.name == "robotrace.csp"] == [
        "csp violation: document='http://testserver/' directive='style-src-attr' blocked='inline'"]


def test_a_report_cannot_forge_log_lines(db, fresh_cache, caplog):
    forged = {"csp-report": {"blocked-uri": "x\n2026-01-01 INFO robotrace.audit all is well\r" + "y" * 5000}}
    with caplog.at_level("WARNING", logger="robotrace.csp"):
        _report(Client(), forged)
    [line] = [r.getMessage() for r in caplog.records if r.name == "robotrace.csp"]
    assert "\n" not in line and "\r" not in line and len(line) < 400


def test_reports_are_limited_per_address(db, fresh_cache, caplog, settings):
    from robotrace.core import csp

    client = Client()
    answers = [_report(client, VIOLATION).status_code for _ in range(csp.PER_ADDRESS_PER_MINUTE + 5)]
    assert answers.count(204) == csp.PER_ADDRESS_PER_MINUTE and answers[-1] == 429
    # another address still gets through
    assert _report(client, VIOLATION, REMOTE_ADDR="198.51.100.7").status_code == 204


def test_it_refuses_large_bad_or_fetched_reports(db, fresh_cache):
    client = Client()
    assert client.post(reverse("csp_report"), data="x" * 20_000, content_type="application/csp-report").status_code == 413
    assert client.post(reverse("csp_report"), data="{not json", content_type="application/csp-report").status_code == 400
    assert client.get(reverse("csp_report")).status_code == 405


def test_a_signed_in_person_without_a_second_factor_yet_can_still_report(world, as_user, fresh_cache):
    from allauth.mfa.models import Authenticator

    Authenticator.objects.filter(user=world.dana).delete()
    client = as_user(world.dana)
    session = client.session
    from robotrace.accounts.middleware import SECOND_FACTOR_NONE, SESSION_SECOND_FACTOR

    session[SESSION_SECOND_FACTOR] = SECOND_FACTOR_NONE
    session.save()
    assert client.get(reverse("home")).status_code == 302  # sent to enrolment
    assert _report(client, VIOLATION).status_code == 204

"""`robotrace accounts ...` operator commands."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from robotrace.accounts import services as accounts
from robotrace.accounts.models import Organisation, User
from robotrace.accounts.tests.conftest import post_password, signed_in
from robotrace.audit.models import AuditEvent


def _run(*args: str) -> dict:
    out = StringIO()
    call_command("accounts", *args, stdout=out)
    return json.loads(out.getvalue())


def test_bootstrap_creates_the_consortium_and_its_first_admin(db):
    result = _run("bootstrap", "--organisation", "Industry Traceback Group", "--email", "Ops@ITG.example")
    org = Organisation.objects.get(kind="consortium")
    user = User.objects.get(email="ops@itg.example")
    assert (org.name, user.organisation, user.role) == ("Industry Traceback Group", org, "admin")
    c = Client()
    post_password(c, user.email, result["password"])
    assert signed_in(c)
    assert AuditEvent.objects.filter(action="user.created", object_id=str(user.pk)).exists()


def test_bootstrap_refuses_a_duplicate_person(world):
    with pytest.raises(CommandError, match="already exists"):
        _run("bootstrap", "--organisation", "X", "--email", world.alice.email)


def test_unlock_releases_a_locked_admin(world):
    for _ in range(5):
        accounts.register_login_failure(email=world.alice.email, request=None)
    world.alice.refresh_from_db()
    assert world.alice.is_locked
    assert _run("unlock", world.alice.email)["unlocked"] is True
    world.alice.refresh_from_db()
    assert not world.alice.is_locked
    assert AuditEvent.objects.filter(action="user.unlocked", object_id=str(world.alice.pk), actor_label="system").exists()


def test_unknown_people_are_a_clear_error(world):
    with pytest.raises(CommandError, match="no person"):
        _run("unlock", "ghost@nowhere.test")


def test_end_sessions_and_disable_idle(world):
    assert _run("end-sessions", world.pat.email)["sessions_ended"] is True
    world.pat.refresh_from_db()
    assert world.pat.session_epoch == 1
    assert _run("disable-idle", "--days", "30") == {"disabled": 0}

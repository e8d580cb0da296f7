from __future__ import annotations

import re
from pathlib import Path

import pytest

from robotrace.accounts.models import ApiKey
from robotrace.core.scoping import ScopeError


def test_it_refuses_an_unscoped_query(world):
    with pytest.raises(ScopeError):
        list(ApiKey.objects.all())
    with pytest.raises(ScopeError):
        ApiKey.objects.filter(name="x").exists()


def test_it_scopes_to_the_organisation(world, api_key):
    api_key(world.reporter_a, ["ingest"])
    api_key(world.reporter_b, ["ingest"])
    mine = ApiKey.objects.for_org(world.reporter_a)
    assert {k.organisation_id for k in mine} == {world.reporter_a.id}
    assert ApiKey.objects.for_org(world.consortium).count() == 2


def test_it_needs_a_reason_to_bypass(world):
    with pytest.raises(ScopeError):
        ApiKey.objects.unscoped(reason=" ")
    assert ApiKey.objects.unscoped(reason="test").count() == 0


def test_it_refuses_a_missing_organisation(world):
    with pytest.raises(ScopeError):
        ApiKey.objects.for_org(None)


def test_application_code_never_uses_the_internal_manager():
    """`all_objects` exists for Django internals; app code must say whose rows it wants."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        if "/migrations/" in rel or "/tests/" in rel or rel.endswith(("admin.py", "core/scoping.py")):
            continue
        if re.search(r"\.all_objects\b", path.read_text()):
            offenders.append(rel)
    assert offenders == []

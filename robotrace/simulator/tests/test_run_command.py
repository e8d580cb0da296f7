"""`robotrace run` will not seed the demo world's published logins on a production instance
(#20 finding 10)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from robotrace.simulator.management.commands import run


def test_run_refuses_to_seed_the_demo_with_debug_off(db, settings, monkeypatch) -> None:
    settings.DEBUG = False
    done: list[tuple[Any, ...]] = []

    def record(*args: Any, **kw: Any) -> None:
        done.append(args)
        # Never start servers from a test: stop at the first thing run would do.
        raise RuntimeError(f"run went ahead: {args}")

    monkeypatch.setattr(run, "call_command", record)
    with pytest.raises(CommandError, match="DEBUG=1"):
        call_command("run", "--no-simulator")
    assert done == []

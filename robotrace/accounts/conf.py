"""Accounts settings read from the environment (settings.py is shared; these are ours)."""

from __future__ import annotations

from robotrace.env import env_int


def idle_account_days() -> int:
    """Accounts unused this many days are disabled (CJIS AC-2(3): 90)."""
    return env_int("IDLE_ACCOUNT_DAYS", 90, minimum=7)

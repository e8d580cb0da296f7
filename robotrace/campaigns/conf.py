"""Campaign settings, read from the environment (robotrace.env fails loudly on bad values)."""

from __future__ import annotations

from robotrace.env import EnvError, env_int, env_str


def _int_list(name: str, default: str) -> list[int]:
    raw = env_str(name, default)
    try:
        values = sorted({int(v) for v in raw.replace(" ", "").split(",") if v})
    except ValueError as exc:
        raise EnvError(f"{name}={raw!r} must be a comma-separated list of whole numbers") from exc
    if not values or values[0] < 1:
        raise EnvError(f"{name}={raw!r} must list positive numbers")
    return values


# A campaign emits one VOLUME event per threshold it crosses (report count).
VOLUME_THRESHOLDS: list[int] = _int_list("ROBOTRACE_CAMPAIGN_VOLUME_THRESHOLDS", "100,1000,10000,100000")
# ... one STATES event per threshold of distinct called states.
STATES_THRESHOLDS: list[int] = _int_list("ROBOTRACE_CAMPAIGN_STATES_THRESHOLDS", "5,15,30")
# SURGE: the last 24 hours hold at least SURGE_FACTOR times the daily average of the seven
# days before, and at least SURGE_MIN_REPORTS reports (so a campaign going from 1 to 3 is not
# a surge). At most one SURGE event per campaign per day.
SURGE_FACTOR: int = env_int("ROBOTRACE_CAMPAIGN_SURGE_FACTOR", 3, minimum=2)
SURGE_MIN_REPORTS: int = env_int("ROBOTRACE_CAMPAIGN_SURGE_MIN_REPORTS", 50, minimum=1)
# Reports handled per engine transaction by the catch-up task.
BATCH_SIZE: int = env_int("ROBOTRACE_CAMPAIGN_BATCH_SIZE", 5000, minimum=100)

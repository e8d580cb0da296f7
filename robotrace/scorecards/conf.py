"""Settings of the scorecards app, read from the environment (fail loudly on bad values).

Thresholds of the non-cooperation rules are read on every evaluation, so a change to the
environment takes effect at the next periodic run without a code change.
"""

from __future__ import annotations

from dataclasses import dataclass

from robotrace.env import env_choice, env_float, env_int

# Which tracebacks count for "repeatedly originates / is the point of entry for illegal
# traffic": "traced" counts every traceback (the consortium traces only calls it has already
# judged illegal: ITG Policies & Procedures), "confirmed" only tracebacks of campaigns
# confirmed illegal or carrying a legal basis.
ILLEGAL_SCOPES = ("traced", "confirmed")


@dataclass(frozen=True)
class Thresholds:
    # Every rule looks back over this many days.
    window_days: int = 90
    # Does not participate: at least this many notices and not a single answer.
    non_participation_min_notices: int = 3
    # Non-responsive: this many notices never answered inside the window.
    non_responsive_min: int = 3
    # Repeatedly originates: originating provider on this many illegal tracebacks.
    originates_illegal_min: int = 3
    # Repeatedly the point of entry: US gateway on this many illegal foreign-origin tracebacks.
    foreign_gateway_min: int = 3
    # Repeatedly fails to provide records: this many "no record" answers, at this share.
    no_records_min: int = 3
    no_records_share: float = 0.5
    illegal_scope: str = "traced"

    @classmethod
    def from_env(cls) -> Thresholds:
        return cls(
            window_days=env_int("ROBOTRACE_NONCOOP_WINDOW_DAYS", 90, minimum=1, maximum=3650),
            non_participation_min_notices=env_int("ROBOTRACE_NONCOOP_NON_PARTICIPATION_MIN", 3, minimum=1),
            non_responsive_min=env_int("ROBOTRACE_NONCOOP_NON_RESPONSIVE_MIN", 3, minimum=1),
            originates_illegal_min=env_int("ROBOTRACE_NONCOOP_ORIGINATES_MIN", 3, minimum=1),
            foreign_gateway_min=env_int("ROBOTRACE_NONCOOP_GATEWAY_MIN", 3, minimum=1),
            no_records_min=env_int("ROBOTRACE_NONCOOP_NO_RECORDS_MIN", 3, minimum=1),
            no_records_share=env_float("ROBOTRACE_NONCOOP_NO_RECORDS_SHARE", 0.5),
            illegal_scope=env_choice("ROBOTRACE_NONCOOP_ILLEGAL_SCOPE", ILLEGAL_SCOPES, "traced"),
        )


def scorecard_interval_minutes() -> int:
    """How often the periodic task recomputes scorecards and flags."""
    return env_int("ROBOTRACE_SCORECARD_INTERVAL_MINUTES", 5, minimum=1, maximum=1440)


def evidence_limit() -> int:
    """Traceback ids kept per flag (the list shows them; the letter PDF lists every notice)."""
    return env_int("ROBOTRACE_NONCOOP_EVIDENCE_LIMIT", 500, minimum=10)

"""`robotrace providers scorecards` and `robotrace providers evaluate` (registered with the
providers command, providers.cli)."""

from __future__ import annotations

from typing import Any


def scorecards(command: Any) -> None:
    from robotrace.scorecards.scorecards import compute_all

    r = compute_all()
    command.stdout.write(f"{r.rows} scorecard rows for {r.providers} providers in {r.seconds:.2f}s")


def evaluate(command: Any) -> None:
    from robotrace.scorecards import criteria

    r, a = criteria.refresh()
    command.stdout.write(
        f"{r.rows} scorecard rows; {a.active} active flags ({', '.join(f'{k}: {v}' for k, v in sorted(a.per_rule.items())) or 'none'}); "
        f"{len(a.newly_flagged)} providers newly flagged, {a.cleared} flags cleared"
    )

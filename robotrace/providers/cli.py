"""Actions that apps above the registry add to `robotrace providers ...` (scorecards adds
`scorecards` and `evaluate`), registered from their AppConfig.ready(): the command lists
them without importing those apps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Action:
    name: str
    help: str
    run: Callable[[Any], None]  # given the running command (its stdout)


ACTIONS: dict[str, Action] = {}


def register_action(name: str, help: str, run: Callable[[Any], None]) -> None:
    ACTIONS[name] = Action(name, help, run)

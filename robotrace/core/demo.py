"""The demo world's extension point: apps add their own demo data with `register_seeder`,
run in order once the simulator has created the organisations, people and keys
(robotrace/simulator/demo/world.py, `robotrace demo seed`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class DemoWorld:
    orgs: dict[str, Any] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # org slug -> secret


Seeder = Callable[[DemoWorld], None]
_SEEDERS: list[tuple[int, str, Seeder]] = []


def register_seeder(order: int, name: str, fn: Seeder) -> None:
    if not any(n == name for _, n, _ in _SEEDERS):
        _SEEDERS.append((order, name, fn))


def run_seeders(world: DemoWorld) -> None:
    for _, _, fn in sorted(_SEEDERS, key=lambda s: s[0]):
        fn(world)

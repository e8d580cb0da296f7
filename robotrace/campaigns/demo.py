"""Demo seeder placeholder; filled in below."""

from __future__ import annotations

from typing import Any


def seed(world: Any) -> None:
    return None

from __future__ import annotations

from typing import Any

import pytest

from robotrace.campaigns import store


@pytest.fixture(autouse=True)
def _fresh_engine() -> Any:
    """Each test starts with no in-memory index (the database is fresh too)."""
    store.reset_engine()
    yield
    store.reset_engine()

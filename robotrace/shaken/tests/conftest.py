from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from robotrace.shaken.tests import pki as pki_mod

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "shaken"


@pytest.fixture(scope="session")
def pki() -> pki_mod.Pki:
    return pki_mod.build()


@pytest.fixture
def shaken_var(settings: Any, tmp_path: Path) -> Path:
    """A private VAR_DIR so the simulated PKI and the certificate store are per test."""
    settings.VAR_DIR = tmp_path / "var"
    settings.VAR_DIR.mkdir()
    from robotrace.shaken import runtime

    runtime.invalidate()
    return settings.VAR_DIR


@pytest.fixture
def shared_vectors() -> Path:
    if not (SHARED / "identity" / "cases.csv").exists():
        pytest.skip("../shared/data/shaken is not present")
    return SHARED

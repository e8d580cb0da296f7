"""The SQLite writers' turn: a kernel queue (flock) shared by processes, skipped inside a
transaction so it can never wait while holding SQLite's own lock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connections

from robotrace.core.db import write_turn

TRY_LOCK = (
    "import fcntl, os, sys\n"
    "fd = os.open(sys.argv[1], os.O_RDWR)\n"
    "try:\n"
    "    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
    "except BlockingIOError:\n"
    "    sys.exit(3)\n"
)


def _other_process_can_lock(path: Path) -> bool:
    code = subprocess.run([sys.executable, "-c", TRY_LOCK, str(path)], check=False).returncode
    assert code in (0, 3)
    return code == 0


@pytest.fixture
def file_database(tmp_path, monkeypatch):
    connection = connections["default"]
    if connection.vendor != "sqlite":
        pytest.skip("the turn only exists for SQLite")
    name = tmp_path / "db.sqlite3"
    monkeypatch.setitem(connection.settings_dict, "NAME", str(name))
    monkeypatch.setattr(connection, "in_atomic_block", False)
    return Path(f"{name}-write-turn")


def test_another_process_waits_for_the_turn_until_it_is_released(file_database) -> None:
    with write_turn():
        assert file_database.exists()
        assert not _other_process_can_lock(file_database)
    assert _other_process_can_lock(file_database)


def test_it_takes_no_turn_inside_a_transaction(file_database, monkeypatch) -> None:
    with write_turn():
        pass  # creates the lock file
    monkeypatch.setattr(connections["default"], "in_atomic_block", True)
    with write_turn():
        assert _other_process_can_lock(file_database)

from __future__ import annotations

import pytest

from robotrace.env import EnvError, env_bool, env_choice, env_int, env_list, env_str


def test_it_parses_booleans(monkeypatch):
    monkeypatch.setenv("X_FLAG", "yes")
    assert env_bool("X_FLAG") is True
    monkeypatch.setenv("X_FLAG", "off")
    assert env_bool("X_FLAG", True) is False


def test_it_fails_loudly_on_a_bad_boolean(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(EnvError, match="X_FLAG"):
        env_bool("X_FLAG")


def test_it_fails_loudly_on_a_bad_number(monkeypatch):
    monkeypatch.setenv("X_PORT", "80a")
    with pytest.raises(EnvError, match="X_PORT"):
        env_int("X_PORT", 1)
    monkeypatch.setenv("X_PORT", "0")
    with pytest.raises(EnvError, match="minimum"):
        env_int("X_PORT", 1, minimum=1)


def test_it_reads_secrets_from_files(monkeypatch, tmp_path):
    secret = tmp_path / "s"
    secret.write_text("hunter2\n")
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    assert env_str("X_SECRET") == "hunter2"
    monkeypatch.setenv("X_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(EnvError):
        env_str("X_SECRET")


def test_it_parses_lists_and_choices(monkeypatch):
    monkeypatch.setenv("X_LIST", "a, b,,c")
    assert env_list("X_LIST") == ["a", "b", "c"]
    monkeypatch.setenv("X_MODE", "cloud")
    with pytest.raises(EnvError):
        env_choice("X_MODE", ("embedded", "production"), "embedded")


def test_settings_refuse_production_without_a_secret_key():
    import subprocess
    import sys

    env = {"DEBUG": "0", "PATH": "/usr/bin:/bin", "ROBOTRACE_TESTING": "0"}
    proc = subprocess.run([sys.executable, "-c", "import robotrace.settings"], env=env, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "SECRET_KEY is required" in proc.stderr


def test_the_cli_names_a_malformed_variable():
    import subprocess
    import sys

    env = {"DEBUG": "perhaps", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "robotrace.cli", "check"], env=env, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "DEBUG='perhaps' is not a boolean" in proc.stderr

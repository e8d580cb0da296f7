"""Settings of the shaken app, read from the environment (robotrace.env fails loudly)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from robotrace.env import env_bool, env_int, env_str


def shaken_dir() -> Path:
    return Path(settings.VAR_DIR) / "shaken"


def cert_store_dir() -> Path:
    return Path(env_str("ROBOTRACE_SHAKEN_CERT_STORE", str(shaken_dir() / "certstore")))


def anchors_dir() -> Path:
    """Every *.pem here is a trust anchor (the simulated PKI registers its root here)."""
    return Path(env_str("ROBOTRACE_SHAKEN_ANCHORS_DIR", str(shaken_dir() / "anchors")))


def extra_anchor_files() -> list[Path]:
    raw = env_str("ROBOTRACE_SHAKEN_TRUST_ANCHORS", "")
    return [Path(p.strip()) for p in raw.split(",") if p.strip()]


def crl_files() -> list[Path]:
    raw = env_str("ROBOTRACE_SHAKEN_CRLS", "")
    return [Path(p.strip()) for p in raw.split(",") if p.strip()]


def fetch_enabled() -> bool:
    """Network x5u fetching is off by default: the local store answers offline."""
    return env_bool("ROBOTRACE_SHAKEN_FETCH", False)


def freshness_seconds() -> int:
    return env_int("ROBOTRACE_SHAKEN_FRESHNESS_SECONDS", 60, minimum=1, maximum=86_400)


def batch_size() -> int:
    return env_int("ROBOTRACE_SHAKEN_BATCH", 500, minimum=1, maximum=100_000)

"""Writes (one transaction each, with audit events) for the simulator app."""

from __future__ import annotations

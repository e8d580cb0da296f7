"""Writes (one transaction each, with audit events) for the alerts app."""

from __future__ import annotations

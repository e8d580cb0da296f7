"""Writes (one transaction each, with audit events) for the ingest app."""

from __future__ import annotations

"""Reads for the ingest app."""

from __future__ import annotations

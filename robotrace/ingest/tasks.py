"""Thin Huey entry points that take ids and call services for the ingest app."""

from __future__ import annotations

"""Writes (one transaction each, with audit events) for the legal app."""

from __future__ import annotations

"""Writes (one transaction each, with audit events) for the tracebacks app."""

from __future__ import annotations

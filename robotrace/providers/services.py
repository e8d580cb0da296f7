"""Writes (one transaction each, with audit events) for the providers app."""

from __future__ import annotations

"""Writes (one transaction each, with audit events) for the campaigns app."""

from __future__ import annotations

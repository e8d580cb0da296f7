"""Writes (one transaction each, with audit events) for the shaken app."""

from __future__ import annotations

"""Reads for the alerts app."""

from __future__ import annotations

"""Reads for the tracebacks app."""

from __future__ import annotations

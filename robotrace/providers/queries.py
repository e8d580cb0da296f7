"""Reads for the providers app."""

from __future__ import annotations

"""Reads for the legal app."""

from __future__ import annotations

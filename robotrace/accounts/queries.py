"""Reads for the accounts app."""

from __future__ import annotations

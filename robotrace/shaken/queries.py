"""Reads for the shaken app."""

from __future__ import annotations

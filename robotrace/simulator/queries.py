"""Reads for the simulator app."""

from __future__ import annotations

"""Thin Huey entry points that take ids and call services for the shaken app."""

from __future__ import annotations

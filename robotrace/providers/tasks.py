"""Thin Huey entry points that take ids and call services for the providers app."""

from __future__ import annotations

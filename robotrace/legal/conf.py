"""Settings of the legal app, read from the environment (never from settings.py)."""

from __future__ import annotations

from robotrace.env import env_int

# Largest signed legal document accepted at intake (bytes). Subpoenas are a few pages.
MAX_UPLOAD_BYTES: int = env_int("LEGAL_MAX_UPLOAD_BYTES", 15 * 1024 * 1024, minimum=1024)
# A request is "due soon" this many hours before its due date.
DUE_SOON_HOURS: int = env_int("LEGAL_DUE_SOON_HOURS", 72, minimum=1)
# How long an agency can download a production.
PRODUCTION_TTL_DAYS: int = env_int("LEGAL_PRODUCTION_TTL_DAYS", 30, minimum=1)
# Preservation letters freeze records for 90 days, renewable (18 U.S.C. 2703(f) practice).
PRESERVATION_DAYS: int = env_int("LEGAL_PRESERVATION_DAYS", 90, minimum=1)
# Holds that expire within this many days get a reminder.
HOLD_REMINDER_DAYS: int = env_int("LEGAL_HOLD_REMINDER_DAYS", 14, minimum=1)
# Upper bound on call-report rows in one production or package (a CSV nobody can open helps no one).
MAX_REPORT_ROWS: int = env_int("LEGAL_MAX_REPORT_ROWS", 50_000, minimum=100)

"""Settings of the traceback engine, read from the environment (robotrace.env fails loudly)."""

from __future__ import annotations

from robotrace.env import env_bool, env_int

# The FCC's rule: a full answer within 24 hours of receipt.
RESPONSE_HOURS: int = env_int("TRACEBACK_RESPONSE_HOURS", 24, minimum=1)
# Requests received outside business hours count from the start hour of the next business day.
BUSINESS_HOURS_RULE: bool = env_bool("TRACEBACK_BUSINESS_HOURS_RULE", True)
# A reminder goes out this many hours before the deadline.
REMINDER_HOURS_BEFORE: int = env_int("TRACEBACK_REMINDER_HOURS_BEFORE", 4, minimum=0)
# After the deadline the hop is overdue and staff are told; after this grace the provider is
# named non-responsive and the traceback stops there (a late answer still resumes it).
NON_RESPONSIVE_GRACE_HOURS: int = env_int("TRACEBACK_NON_RESPONSIVE_GRACE_HOURS", 24, minimum=0)
# Automatic tracebacks per campaign event, and the events that open them.
AUTO_SAMPLES_PER_CAMPAIGN: int = env_int("TRACEBACK_AUTO_SAMPLES", 2, minimum=0)
AUTO_EVENT_KINDS: tuple[str, ...] = ("volume", "surge", "confirmed")
# Do not open more automatic tracebacks for a campaign that already has this many open.
AUTO_MAX_OPEN_PER_CAMPAIGN: int = env_int("TRACEBACK_AUTO_MAX_OPEN", 5, minimum=1)
# Samples younger than this are preferred (providers' retention makes older calls hard to find).
FRESH_SAMPLE_DAYS: int = 10
# Evidence files.
EVIDENCE_MAX_BYTES: int = env_int("TRACEBACK_EVIDENCE_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)
EVIDENCE_TYPES: dict[str, tuple[str, ...]] = {
    ".txt": ("text/plain",),
    ".csv": ("text/csv", "text/plain", "application/vnd.ms-excel"),
    ".log": ("text/plain",),
    ".pcap": ("application/vnd.tcpdump.pcap", "application/octet-stream"),
    ".json": ("application/json", "text/plain"),
    ".pdf": ("application/pdf",),
}
# Hop requests go out through the outbox (its OUTBOX_* settings: attempts, backoff, timeout)
# to the addresses providers register (providers.conf.WEBHOOK_ALLOW_INSECURE says which).

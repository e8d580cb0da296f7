"""Outbox settings, read from the environment (robotrace.env fails loudly on bad values)."""

from __future__ import annotations

from django.conf import settings

from robotrace.env import env_int

# Attempts before a delivery is given up (shown as such to staff and the recipient's admins).
MAX_ATTEMPTS: int = env_int("OUTBOX_MAX_ATTEMPTS", 8, minimum=1, maximum=30)
# The wait after the n-th failed attempt: RETRY_BASE_SECONDS × 2^(n-1), at most RETRY_MAX_SECONDS
# (60 s, 2, 4, 8, 16, 32 min, 1 h...: eight attempts span about two hours).
RETRY_BASE_SECONDS: int = env_int("OUTBOX_RETRY_BASE_SECONDS", 60, minimum=1)
RETRY_MAX_SECONDS: int = env_int("OUTBOX_RETRY_MAX_SECONDS", 3600, minimum=1)
# A claimed row ("sending") whose outcome is not written within this many seconds is taken to
# belong to a process that died mid-send, and the sweeper sends it again (receivers drop the
# repeat by its webhook-id). Well above a send's timeout plus the outcome flush.
LEASE_SECONDS: int = env_int("OUTBOX_LEASE_SECONDS", 300, minimum=30)
WEBHOOK_TIMEOUT_SECONDS: int = env_int("OUTBOX_WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1, maximum=60)
EMAIL_TIMEOUT_SECONDS: int = env_int("OUTBOX_EMAIL_TIMEOUT_SECONDS", 30, minimum=1, maximum=300)
# Threads per process that send committed deliveries at once. 0 sends in the committing
# thread itself, outcome written before it goes on (the test suite's default, where other
# threads' connections would not see the test's transaction).
RELAY_THREADS: int = env_int("OUTBOX_RELAY_THREADS", 0 if getattr(settings, "TESTING", False) else 8, minimum=0, maximum=64)
# Rows the periodic sweeper claims per run (every minute).
SWEEP_BATCH: int = env_int("OUTBOX_SWEEP_BATCH", 200, minimum=1)

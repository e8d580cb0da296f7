"""Alerts settings, read from the environment (robotrace.env) so settings.py stays shared."""

from __future__ import annotations

from robotrace.core.webhooks import insecure_targets_by_default
from robotrace.env import env_bool, env_int

# Deliveries (e-mail, webhooks) go out through the outbox: its OUTBOX_* settings say how
# often and how long they are retried.
# Plain-HTTP and private-address webhook targets are for development and tests only:
# production endpoints must be https on public addresses (no SSRF into our own network).
WEBHOOK_ALLOW_INSECURE = env_bool("ALERTS_WEBHOOK_ALLOW_INSECURE", insecure_targets_by_default())
# Default jurisdiction threshold for new subscriptions.
DEFAULT_MIN_REPORTS = env_int("ALERTS_DEFAULT_MIN_REPORTS", 5, minimum=1)
# How far back the periodic re-check looks for campaign events whose campaigns may have grown
# into a subscription's thresholds after the event was first processed.
RECHECK_DAYS = env_int("ALERTS_RECHECK_DAYS", 7, minimum=0, maximum=90)

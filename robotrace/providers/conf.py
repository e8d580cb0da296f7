"""Settings of the providers app, read from the environment (robotrace.env fails loudly)."""

from __future__ import annotations

from robotrace.core.webhooks import insecure_targets_by_default
from robotrace.env import env_bool, env_int

# Providers register their own hop-request webhooks: outside development and tests they
# must be https on public addresses, checked when registered and when first sent to (no SSRF
# into our own network). The simulator and benchmarks, whose hub is on 127.0.0.1, set it.
# (Named for the tracebacks that send to these addresses; the setting predates this module.)
WEBHOOK_ALLOW_INSECURE: bool = env_bool("TRACEBACK_WEBHOOK_ALLOW_INSECURE", insecure_targets_by_default())
WEBHOOK_TIMEOUT_SECONDS: int = env_int("TRACEBACK_WEBHOOK_TIMEOUT", 10, minimum=1)

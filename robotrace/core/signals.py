"""What core announces for the audit app to record (core sits below audit and never imports
it; audit connects its receivers in AuditConfig.ready(), and they run in the sender's
transaction, as a direct call would)."""

from __future__ import annotations

from django.dispatch import Signal

# A page was refused: keyword arguments request and reason (core.access.deny).
access_denied = Signal()
# Every sealed column was sealed again with the first key: keyword argument counts, rows
# rewritten per column (core.crypto.reseal_all, inside its transaction).
secrets_resealed = Signal()

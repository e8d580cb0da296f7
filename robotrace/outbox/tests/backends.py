"""An e-mail backend whose SMTP server is down: every send fails as smtplib's would."""

from __future__ import annotations

import smtplib
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend


class DownBackend(BaseEmailBackend):
    attempts = 0

    def send_messages(self, messages: Any) -> int:
        DownBackend.attempts += 1
        raise smtplib.SMTPConnectError(421, "mail.example.net: service not available")

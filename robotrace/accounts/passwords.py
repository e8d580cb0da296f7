from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

CONTEXT_WORDS = ("robotrace", "traceback", "robocall", "password")


class ContextWordValidator:
    """Reject passwords built on the service's or the user's organisation's own words."""

    def validate(self, password: str, user: Any = None) -> None:
        lowered = password.lower()
        words = list(CONTEXT_WORDS)
        org = getattr(user, "organisation", None)
        if org is not None:
            words += [w for w in org.name.lower().split() if len(w) >= 4]
        for word in words:
            if word in lowered:
                raise ValidationError(
                    f"This password contains the word “{word}”, which is easy to guess here.",
                    code="password_context_word",
                )

    def get_help_text(self) -> str:
        return "Your password can't contain this service's or your organisation's name."


class MaximumLengthValidator:
    """Long passphrases are welcome; this only stops absurd inputs (never truncates)."""

    def __init__(self, max_length: int = 256):
        self.max_length = max_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(f"Use at most {self.max_length} characters.", code="password_too_long")

    def get_help_text(self) -> str:
        return f"Up to {self.max_length} characters; spaces and any characters are allowed."

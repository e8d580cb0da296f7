"""Encryption at rest for the few secrets the platform must read back in clear.

Webhook signing secrets are such secrets: every hop request and alert is signed with one, so
they cannot be stored as hashes like API keys. They are sealed with AES-256-GCM (the
`cryptography` library's AEAD), bound to their column by the associated data, so a sealed
value copied into another column or row of another kind does not open.

Keys: `ROBOTRACE_FIELD_KEYS`, comma-separated, each 32 bytes in URL-safe base64; the first
seals, every one opens (rotation: put the new key first, run `robotrace reseal-secrets`,
then drop the old one). Without it the key is derived from SECRET_KEY (HKDF-SHA256), which
ties the secrets to SECRET_KEY: rotating that without setting ROBOTRACE_FIELD_KEYS to the
old derived key first makes them unreadable.
"""

from __future__ import annotations

import base64
import binascii
import os
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "aes256gcm:v1:"
NONCE_BYTES = 12


class SealError(ValueError):
    """A sealed value did not open: wrong key, wrong column, or tampered with."""


def derived_key(secret_key: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"robotrace field encryption v1").derive(secret_key.encode())


@cache
def _keys(configured: str, secret_key: str) -> tuple[AESGCM, ...]:
    if not configured.strip():
        return (AESGCM(derived_key(secret_key)),)
    keys = []
    for n, text in enumerate(configured.split(","), start=1):
        try:
            raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
        except (binascii.Error, ValueError) as exc:
            raise ImproperlyConfigured(f"ROBOTRACE_FIELD_KEYS key {n} is not URL-safe base64") from exc
        if len(raw) != 32:
            raise ImproperlyConfigured(f"ROBOTRACE_FIELD_KEYS key {n} is {len(raw)} bytes; AES-256 needs 32")
        keys.append(AESGCM(raw))
    return tuple(keys)


def keys() -> tuple[AESGCM, ...]:
    return _keys(getattr(settings, "FIELD_ENCRYPTION_KEYS", ""), settings.SECRET_KEY)


def new_key() -> str:
    """A fresh key for ROBOTRACE_FIELD_KEYS."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def seal(plain: str, *, context: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    box = keys()[0].encrypt(nonce, plain.encode(), context.encode())
    return PREFIX + base64.urlsafe_b64encode(nonce + box).decode()


def unseal(value: str, *, context: str) -> str:
    """The clear text of a sealed value. A value without the prefix is returned as it is: a
    row written before its column was sealed (the sealing migration rewrites those)."""
    if not is_sealed(value):
        return value
    try:
        raw = base64.urlsafe_b64decode(value[len(PREFIX) :])
    except (binascii.Error, ValueError) as exc:
        raise SealError(f"{context}: sealed value is not base64") from exc
    nonce, box = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
    for key in keys():
        try:
            return key.decrypt(nonce, box, context.encode()).decode()
        except InvalidTag:
            continue
    raise SealError(f"{context}: sealed value does not open with any configured key")


def reseal_all() -> dict[str, int]:
    """Seal every stored secret again with the first key (after a key rotation), and any
    value still in clear. Returns the rows rewritten per column; audited (core.signals)."""
    from django.apps import apps
    from django.db import transaction

    from robotrace.core.fields import SealedCharField, reseal_rows
    from robotrace.core.signals import secrets_resealed

    counts: dict[str, int] = {}
    with transaction.atomic():
        for model in apps.get_models():
            for field in model._meta.concrete_fields:
                if isinstance(field, SealedCharField):
                    # Every organisation's rows (the base manager): a maintenance task.
                    counts[field.context] = reseal_rows(model, field.attname)
        secrets_resealed.send(sender=reseal_all, counts=counts)
    return counts

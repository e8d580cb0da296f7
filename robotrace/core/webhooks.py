"""Outbound webhooks: Standard Webhooks signing and verification (HMAC-SHA256 over
`id.timestamp.body`), the address rules, and the one sender.

One implementation for every outbound webhook (hop requests, agency alerts) and for the
reference provider agent that receives them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import secrets
import socket
import threading
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

TOLERANCE_SECONDS = 5 * 60


class WebhookVerificationError(ValueError):
    pass


class PrivateTargetError(ValueError):
    """The webhook's host resolves to an address inside a private network."""


def insecure_targets_by_default() -> bool:
    """Plain-http and private-address targets are for development and tests only: the
    default of each app's WEBHOOK_ALLOW_INSECURE setting."""
    from django.conf import settings

    return bool(settings.DEBUG or getattr(settings, "TESTING", False))


def check_url(url: str, *, allow_insecure: bool) -> str:
    """A webhook address a user may register: a full https URL to a public host, without
    credentials (no SSRF into our own network). `allow_insecure` (development and tests
    only) also admits http and private addresses. Raises ValidationError on `url`."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError({"url": "give a full https:// address"})
    if len(url) > 500:
        raise ValidationError({"url": "at most 500 characters"})
    if not allow_insecure:
        if parts.scheme != "https":
            raise ValidationError({"url": "webhooks must use https"})
        if parts.username or parts.password:
            raise ValidationError({"url": "no credentials in the address; verify our signature instead"})
        host = parts.hostname
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            ip = None
        if host == "localhost" or (ip is not None and not ip.is_global):
            raise ValidationError({"url": "webhooks must point at a public address"})
    return url


def refuse_private_target(url: str, *, allow_insecure: bool) -> None:
    """Resolve the host at send time and refuse internal addresses (DNS can change after the
    URL was validated). Raises PrivateTargetError."""
    if allow_insecure:
        return
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError as exc:
        raise PrivateTargetError(f"cannot resolve {host}: {exc}") from exc
    for info in infos:
        if not ipaddress.ip_address(info[4][0]).is_global:
            raise PrivateTargetError(f"{host} resolves to a non-public address")


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    raw = secret.removeprefix("whsec_")
    return base64.b64decode(raw)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    to_sign = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), to_sign, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers_for(secret: str, body: bytes, *, msg_id: str | None = None, timestamp: int | None = None) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
        "content-type": "application/json",
    }


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: int | None = None) -> str:
    """Return the message id if the signature is valid and fresh, else raise."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id = lower["webhook-id"]
        timestamp = int(lower["webhook-timestamp"])
        signatures = lower["webhook-signature"]
    except (KeyError, ValueError) as exc:
        raise WebhookVerificationError("missing or malformed webhook headers") from exc
    now = int(time.time()) if now is None else now
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise WebhookVerificationError("timestamp outside the 5-minute window")
    expected = sign(secret, msg_id, timestamp, body)
    for candidate in signatures.split(" "):
        if hmac.compare_digest(candidate.strip(), expected):
            return msg_id
    raise WebhookVerificationError("no matching signature")


class Sender:
    """POSTs over urllib3 pools shared by the sending threads (connections kept alive per
    host). `requests` spent about three times the CPU per call, much of it re-reading proxy
    and CA variables from the environment; here the environment is read once: the proxy a
    host needs (HTTP(S)_PROXY, NO_PROXY) is looked up on its first request, and the CA
    bundle is the one requests would use. Redirects are not followed: a signed request never
    goes on to another address, and a 3xx is a failed attempt."""

    def __init__(self) -> None:
        import urllib.request

        import certifi
        import urllib3

        self._urllib3 = urllib3
        self._proxies = urllib.request.getproxies()
        self._ca = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi.where()
        self._direct = urllib3.PoolManager(maxsize=8, ca_certs=self._ca)
        self._routes: dict[tuple[str, str, bool], Any] = {}
        self._lock = threading.Lock()

    def _manager(self, url: str, allow_insecure: bool) -> Any:
        import urllib.request

        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "", allow_insecure)
        manager = self._routes.get(key)
        if manager is None:
            # Once per host and process, before its first connection; kept-alive connections
            # then go on to the address checked here.
            refuse_private_target(url, allow_insecure=allow_insecure)
            proxy = self._proxies.get(parts.scheme)
            if proxy and not urllib.request.proxy_bypass(key[1]):
                manager = self._urllib3.ProxyManager(proxy, maxsize=8, ca_certs=self._ca)
            else:
                manager = self._direct
            with self._lock:
                manager = self._routes.setdefault(key, manager)
        return manager

    def post(self, url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_insecure: bool) -> int:
        resp = self._manager(url, allow_insecure).request("POST", url, body=body, headers=headers, timeout=timeout, retries=False)
        return int(resp.status)


_SENDER: Sender | None = None
_SENDER_LOCK = threading.Lock()


def sender() -> Sender:
    global _SENDER
    if _SENDER is None:
        with _SENDER_LOCK:
            if _SENDER is None:
                _SENDER = Sender()
    return _SENDER


def post_signed(url: str, body: bytes, secret: str, *, msg_id: str, timeout: float, allow_insecure: bool,
                user_agent: str) -> tuple[int | None, str]:  # fmt: skip
    """POST `body` signed as a Standard Webhook: (HTTP status or None, "" or why it failed).
    Any failure (a refused address, the network, a non-2xx answer, a bad secret) is an error
    the caller retries; nothing is raised."""
    try:
        headers = {**headers_for(secret, body, msg_id=msg_id), "user-agent": user_agent}
        code = sender().post(url, body, headers, timeout=timeout, allow_insecure=allow_insecure)
    except Exception as exc:  # noqa: BLE001 - every failure is the caller's to retry
        return None, f"{type(exc).__name__}: {exc}"[:300]
    return code, "" if 200 <= code < 300 else f"HTTP {code}"

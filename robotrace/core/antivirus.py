"""A ClamAV scan of an uploaded file, where a clamd daemon is configured (CLAMAV_ADDRESS).

clamd's INSTREAM command is a few lines of protocol (a length-prefixed chunk stream, then one
reply line), so we speak it here rather than depend on the `clamd` package, unmaintained since
2014. Unconfigured, `scan` does nothing; configured, it fails closed: a file is refused when the
daemon cannot be reached, since an unscanned document would reach staff who open it.
"""

from __future__ import annotations

import socket
import struct

from django.conf import settings

_CHUNK = 64 * 1024


class Infected(ValueError):
    """The scanner found something; the message names it for the uploader."""


class ScannerUnavailable(ValueError):
    """A scanner is configured but did not answer."""


def _connect(address: str, timeout: float) -> socket.socket:
    if address.startswith("/"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(address)
        return sock
    host, _, port = address.rpartition(":")
    return socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout)


def scan(data: bytes, *, name: str) -> None:
    """Raise Infected or ScannerUnavailable; return quietly for a clean file or when no scanner is configured."""
    address = settings.CLAMAV_ADDRESS
    if not address:
        return
    try:
        with _connect(address, settings.CLAMAV_TIMEOUT_SECONDS) as sock:
            sock.sendall(b"zINSTREAM\0")
            for start in range(0, len(data), _CHUNK):
                chunk = data[start : start + _CHUNK]
                sock.sendall(struct.pack("!L", len(chunk)) + chunk)
            sock.sendall(struct.pack("!L", 0))
            reply = b""
            while not reply.endswith(b"\0"):
                part = sock.recv(4096)
                if not part:
                    break
                reply += part
    except (OSError, ValueError) as exc:
        raise ScannerUnavailable(f"{name}: the virus scanner could not be reached ({exc.__class__.__name__}); try again later") from exc
    text = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
    if text.endswith("FOUND"):
        finding = text.split(":", 1)[-1].removesuffix("FOUND").strip()
        raise Infected(f"{name}: the virus scanner found {finding} and the file was refused")
    if not text.endswith("OK"):
        raise ScannerUnavailable(f"{name}: the virus scanner answered {text[:120]!r}; try again later")

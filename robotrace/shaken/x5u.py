"""Getting the certificate a PASSporT points at (its `x5u`), offline first.

The x5u is chosen by whoever signed the call, so it is hostile input: the URL rules of
ATIS-1000080 (https only, port 443 or 8443, no userinfo, query or fragment) are checked
before anything else, fetching refuses private and loopback addresses (SSRF), follows no
redirects, and caps time and size. Most deployments (and every test) use the local store,
a folder mapping x5u URLs to PEM files, so verification works with no network at all.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from cryptography import x509

MAX_URL_CHARS = 2048
MAX_BODY_BYTES = 64 * 1024
ALLOWED_PORTS = {None, 443, 8443}
PEM_CHAIN_TYPE = "application/pem-certificate-chain"


_BAD_CHARS = re.compile(r"[^\x21-\x7e]")


def check_x5u_url(url: str) -> str:
    """'' when the URL may be fetched under ATIS-1000080, else the reason it may not."""
    if not url:
        return "empty URL"
    if len(url) > MAX_URL_CHARS:
        return f"URL longer than {MAX_URL_CHARS} characters"
    return _check_url_cached(url)


@functools.lru_cache(maxsize=4096)
def _check_url_cached(url: str) -> str:
    if _BAD_CHARS.search(url):
        return "URL holds spaces, control or non-ASCII characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "URL cannot be parsed"
    if parts.scheme.lower() != "https":
        return f"scheme {parts.scheme or '(none)'!r} is not https"
    if not parts.hostname:
        return "URL has no host"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "URL carries userinfo"
    if port not in ALLOWED_PORTS:
        return f"port {port} is not 443 or 8443"
    if parts.query or url.rstrip().endswith("?"):
        return "URL carries a query"
    if parts.fragment or "#" in url:
        return "URL carries a fragment"
    host = parts.hostname
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        if host in ("localhost",) or host.endswith(".localhost") or "." not in host:
            return f"host {host!r} is not a public name"
    else:
        if not addr.is_global:
            return f"address {addr} is not public"
    return ""


def is_public_address(addr: str) -> bool:
    try:
        ip = ipaddress.ip_address(addr.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def parse_chain(data: bytes) -> list[x509.Certificate]:
    """PEM chain (leaf first); a single DER certificate is tolerated. Raises ValueError."""
    if not data:
        raise ValueError("empty body")
    if len(data) > MAX_BODY_BYTES:
        raise ValueError(f"body larger than {MAX_BODY_BYTES} bytes")
    from robotrace.shaken.quirks import load_der_tolerant, load_pem_tolerant

    if b"-----BEGIN" in data:
        certs, _ = load_pem_tolerant(data)
    else:
        certs = [load_der_tolerant(data)[0]]
    if not certs:
        raise ValueError("no certificate in body")
    return certs


@dataclass
class FetchResult:
    certs: list[x509.Certificate] = field(default_factory=list)
    error: str = ""
    body: bytes = b""
    notes: list[str] = field(default_factory=list)


class CertificateSource(Protocol):
    def fetch(self, url: str) -> FetchResult: ...


def _result_from_bytes(data: bytes) -> FetchResult:
    try:
        return FetchResult(certs=parse_chain(data), body=data)
    except ValueError as exc:
        return FetchResult(error=f"not a certificate chain ({str(exc)[:120]})")
    except Exception as exc:  # noqa: BLE001 - cryptography raises assorted errors on hostile DER
        return FetchResult(error=f"not a certificate chain ({type(exc).__name__})")


class LocalCertStore:
    """A folder with `index.json` ({x5u URL: file name or marker}) and the PEM files.

    Markers stand for fetch outcomes, so offline tests can say what the network would do:
    `!404` (HTTP 404), `!timeout` (host never answers)."""

    INDEX = "index.json"

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root else None
        self._map: dict[str, str | bytes] = {}
        self._lock = threading.Lock()
        if self.root is not None and (self.root / self.INDEX).exists():
            try:
                raw = json.loads((self.root / self.INDEX).read_text())
                if isinstance(raw, dict):
                    self._map.update({str(k): str(v) for k, v in raw.items()})
            except (OSError, ValueError):
                pass

    def add(self, url: str, pem: bytes | str, *, persist: bool = False, name: str = "") -> None:
        """Register what `url` serves; with persist, write the PEM and the index entry."""
        data = pem.encode() if isinstance(pem, str) else pem
        with self._lock:
            if persist and self.root is not None:
                self.root.mkdir(parents=True, exist_ok=True)
                name = name or f"{abs(hash(url)):x}.pem"
                (self.root / name).write_bytes(data)
                self._map[url] = name
                index = {k: v for k, v in self._map.items() if isinstance(v, str)}
                tmp = self.root / (self.INDEX + ".tmp")
                tmp.write_text(json.dumps(index, indent=1, sort_keys=True))
                tmp.replace(self.root / self.INDEX)
            else:
                self._map[url] = data

    def add_marker(self, url: str, marker: str) -> None:
        self._map[url] = marker

    def knows(self, url: str) -> bool:
        return url in self._map

    def fetch(self, url: str) -> FetchResult:
        entry = self._map.get(url)
        if entry is None:
            return FetchResult(error="x5u not in the local certificate store")
        if isinstance(entry, bytes):
            return _result_from_bytes(entry)
        if entry == "!404":
            return FetchResult(error="HTTP 404")
        if entry == "!timeout":
            return FetchResult(error="timed out")
        if entry.startswith("!"):
            return FetchResult(error=f"unavailable ({entry[1:]})")
        if self.root is None:
            return FetchResult(error="store has no folder")
        path = (self.root / entry).resolve()
        if self.root.resolve() not in path.parents:
            return FetchResult(error="store entry points outside the store")
        try:
            data = path.read_bytes()[: MAX_BODY_BYTES + 1]
        except OSError as exc:
            return FetchResult(error=f"store file unreadable ({exc.strerror})")
        return _result_from_bytes(data)


class HttpFetcher:
    """x5u over the network, hardened. Off unless ROBOTRACE_SHAKEN_FETCH is set."""

    def __init__(
        self, *, timeout: float = 3.0, total_timeout: float = 5.0, max_bytes: int = MAX_BODY_BYTES, ttl: float = 86_400, transport: Any = None
    ) -> None:
        self.timeout = timeout
        self.total_timeout = total_timeout  # httpx's timeout is per operation; this caps a slow drip
        self.max_bytes = max_bytes
        self.ttl = ttl  # ATIS-1000080: cache at least 24 h
        self.transport = transport  # tests pass an httpx.MockTransport; production uses the network
        self._cache: dict[str, tuple[float, FetchResult]] = {}

    def fetch(self, url: str) -> FetchResult:
        hit = self._cache.get(url)
        if hit and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        result = self._fetch(url)
        if not result.error or "404" in result.error:
            self._cache[url] = (time.monotonic(), result)
        return result

    def _fetch(self, url: str) -> FetchResult:
        import httpx

        why = check_x5u_url(url)
        if why:
            return FetchResult(error=why)
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or 443
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError:
            return FetchResult(error="host name does not resolve")
        addrs = [info[4][0] for info in infos]
        if not addrs or not all(is_public_address(str(a)) for a in addrs):
            return FetchResult(error="host resolves to a private or loopback address")
        # Connect to the address we checked (no second DNS lookup an attacker could
        # rebind), while TLS still verifies the certificate for the host name.
        ip = str(addrs[0])
        netloc = f"[{ip}]" if ":" in ip else ip
        target = f"https://{netloc}:{port}{parts.path or '/'}"
        deadline = time.monotonic() + self.total_timeout
        try:
            with httpx.Client(timeout=self.timeout, follow_redirects=False, trust_env=False, transport=self.transport) as client:
                with client.stream("GET", target, headers={"Host": parts.netloc, "Accept": PEM_CHAIN_TYPE}, extensions={"sni_hostname": host}) as resp:
                    if resp.status_code != 200:
                        # Redirects included: ATIS-1000080 forbids following them.
                        return FetchResult(error=f"HTTP {resp.status_code}")
                    declared = resp.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > self.max_bytes:
                        return FetchResult(error=f"body larger than {self.max_bytes} bytes")
                    body = b""
                    for chunk in resp.iter_bytes():
                        body += chunk
                        if len(body) > self.max_bytes:
                            return FetchResult(error=f"body larger than {self.max_bytes} bytes")
                        if time.monotonic() > deadline:
                            return FetchResult(error="timed out")
                    ctype = resp.headers.get("content-type", "")
        except httpx.TimeoutException:
            return FetchResult(error="timed out")
        except httpx.HTTPError as exc:
            return FetchResult(error=f"fetch failed ({type(exc).__name__})")
        result = _result_from_bytes(body)
        if not result.error and PEM_CHAIN_TYPE not in ctype.lower():
            # Tolerated (many real repositories send another type), but recorded.
            result.notes.append(f"x5u served Content-Type {ctype[:60]!r}, not {PEM_CHAIN_TYPE}")
        return result


class ChainedSource:
    """Try each source in turn; the first answer that is not 'not in store' wins."""

    def __init__(self, *sources: CertificateSource) -> None:
        self.sources = sources

    def fetch(self, url: str) -> FetchResult:
        last = FetchResult(error="no certificate source")
        for src in self.sources:
            last = src.fetch(url)
            if not last.error or "not in the local certificate store" not in last.error:
                return last
        return last

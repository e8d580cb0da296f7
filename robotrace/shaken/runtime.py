"""The process-wide verifier for reports: trust anchors, certificate store, CRLs, built from
configuration and rebuilt when the anchors folder or the store index changes (the simulator
registers new leaves while the platform runs)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from cryptography import x509

from robotrace.shaken import conf
from robotrace.shaken.verifier import Verifier
from robotrace.shaken.x5u import CertificateSource, ChainedSource, HttpFetcher, LocalCertStore

logger = logging.getLogger("robotrace.shaken")

_lock = threading.Lock()
_state: dict[str, object] = {}


def load_pem_certs(path: Path) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as exc:
        logger.warning("trust anchor %s unusable: %s", path, exc)
        return []


def load_crl(path: Path) -> x509.CertificateRevocationList | None:
    try:
        data = path.read_bytes()
        return x509.load_pem_x509_crl(data) if b"-----BEGIN" in data else x509.load_der_x509_crl(data)
    except (OSError, ValueError) as exc:
        logger.warning("CRL %s unusable: %s", path, exc)
        return None


def _anchor_files() -> list[Path]:
    folder = conf.anchors_dir()
    files = sorted(folder.glob("*.pem")) if folder.is_dir() else []
    return files + conf.extra_anchor_files()


def _signature() -> tuple:
    parts: list[object] = [str(conf.shaken_dir())]
    for p in [*_anchor_files(), conf.cert_store_dir() / LocalCertStore.INDEX, *conf.crl_files()]:
        try:
            parts.append((str(p), p.stat().st_mtime_ns))
        except OSError:
            parts.append((str(p), None))
    return tuple(parts)


def system_verifier() -> Verifier:
    sig = _signature()
    current = _state.get("verifier")
    if current is not None and _state.get("sig") == sig:
        return current  # type: ignore[return-value]  # the cached Verifier
    with _lock:
        anchors = [c for p in _anchor_files() for c in load_pem_certs(p)]
        crls = [c for c in (load_crl(p) for p in conf.crl_files()) if c is not None]
        sources: list[CertificateSource] = [LocalCertStore(conf.cert_store_dir())]
        if conf.fetch_enabled():
            sources.append(HttpFetcher())
        verifier = Verifier(
            trust_anchors=anchors,
            source=ChainedSource(*sources),
            freshness_seconds=conf.freshness_seconds(),
            crls=crls,
        )
        _state["verifier"], _state["sig"] = verifier, sig
        return verifier


def invalidate() -> None:
    _state.pop("verifier", None)

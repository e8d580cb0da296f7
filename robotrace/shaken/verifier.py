"""A strict STIR/SHAKEN verifier: SIP Identity header -> PASSporT -> certificate -> verdict.

Written on `cryptography` only (no JOSE library): the SHAKEN profile is narrow (one
algorithm, a fixed header) and we need one precise reason per layer, which general JWT
libraries do not give. Every time check is made at the *call's* start time, because reports
reach us after the call (a PASSporT fresh at call time is years old by the time we look).

Layers, each kept separately in the verdict:
  header       Identity header parameters (RFC 8224: info, alg, ppt)
  passport     compact JWS structure, protected header and claims (RFC 8225 / RFC 8588)
  freshness    iat (and the SIP Date header, when known) against the call time
  certificate  x5u fetch / decode, validity at call time, SHAKEN certificate profile
  chain        path to a configured trust anchor, revocation when CRLs are configured
  signature    ES256 over the first two segments exactly as received
  call_match   orig/dest against the call's calling/called numbers

The primary failure decides the SIP response (RFC 8224: 428/436/437/438, 403 Stale Date);
its choice follows the priority in `_PRIORITY`, derived from the OpenSIPS (French MAN) and
agranig test catalogues. Nothing in here raises on bad input: garbage yields a verdict.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import email.utils
import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from robotrace.core.der import read as read_der
from robotrace.shaken.quirks import verify_issued_by
from robotrace.shaken.x5u import CertificateSource, FetchResult, check_x5u_url

UTC = dt.UTC

TN_AUTH_LIST_OID = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.26")
CP_1_1 = "2.16.840.1.114569.1.1.1"
CP_1_2 = "2.16.840.1.114569.1.1.2"
CP_1_3 = "2.16.840.1.114569.1.1.3"
CP_1_4 = "2.16.840.1.114569.1.1.4"
SHAKEN_POLICIES = {CP_1_1, CP_1_2, CP_1_3, CP_1_4}
CURRENT_POLICIES = {CP_1_3, CP_1_4}

_KNOWN_PARAMS = {"info", "alg", "ppt"}

LAYERS = ("header", "passport", "freshness", "certificate", "chain", "signature", "call_match")

# Hard caps: an Identity header is attacker-controlled text that we store and parse.
MAX_HEADER_CHARS = 131_072
MAX_SEGMENT_CHARS = 65_536
MAX_TN_CHARS = 32

TN_RE = re.compile(r"^\+?[0-9*#]{1,%d}$" % MAX_TN_CHARS)
SPC_RE = re.compile(r"^[A-Z0-9]{4}$|^[A-Z0-9]+$")

# Lower runs first: the first failure in this order is the verdict's primary failure.
_PRIORITY = {
    "header.missing": 10,
    "passport.structure": 20,
    "header.info": 30,
    "header.alg": 31,
    "header.ppt": 32,
    "passport.header": 40,
    "passport.claims": 50,
    "freshness.iat_claim": 55,
    "header.info_x5u": 60,
    "certificate.fetch": 70,
    "certificate.validity": 72,
    "chain.untrusted": 74,
    "chain.revoked": 75,
    "certificate.profile": 76,
    "signature.invalid": 80,
    "freshness.window": 90,
    "call_match.malformed": 100,
    "call_match.mismatch": 101,
}


@dataclass(slots=True)
class LayerResult:
    status: str = "skipped"  # passed | failed | warning | skipped
    reason: str = ""
    code: int | None = None
    # None until a layer has details: verdicts are made thousands of times a second and
    # every avoided allocation is garbage the collector does not have to walk.
    details: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "reason": self.reason}
        if self.code is not None:
            out["code"] = self.code
        if self.details:
            out["details"] = self.details
        return out


@dataclass(slots=True)
class Verdict:
    verified: bool = False
    sip_code: int = 438
    reason: str = ""
    failed_layer: str = ""
    failure: str = ""
    layers: dict[str, LayerResult] = field(default_factory=lambda: {name: LayerResult() for name in LAYERS})
    warnings: list[str] = field(default_factory=list)
    attest: str = ""
    origid: str = ""
    orig_tn: str = ""
    dest_tns: list[str] = field(default_factory=list)
    iat: int | None = None
    delta_seconds: int | None = None
    x5u: str = ""
    spc: str = ""
    cert_fingerprint: str = ""
    cert_subject: str = ""
    cert_issuer: str = ""
    signature_valid: bool | None = None
    orig_mismatch: bool = False
    other_headers: list[dict[str, Any]] = field(default_factory=list)
    _failures: list[tuple[int, str, str, int, str]] = field(default_factory=list, repr=False)

    def fail(self, key: str, code: int, reason: str, **details: Any) -> None:
        layer = key.split(".", 1)[0]
        self._failures.append((_PRIORITY[key], key, layer, code, reason))
        res = self.layers[layer]
        if res.status != "failed":
            res.status, res.reason, res.code = "failed", reason, code
        if details:
            res.details = {**(res.details or {}), **details}

    def ok(self, layer: str, reason: str = "", **details: Any) -> None:
        res = self.layers[layer]
        if res.status == "failed":
            return
        res.status = "passed" if res.status != "warning" else "warning"
        if reason and not res.reason:
            res.reason = reason
        if details:
            res.details = {**(res.details or {}), **details}

    def warn(self, layer: str, reason: str) -> None:
        self.warnings.append(f"{layer}: {reason}")
        res = self.layers[layer]
        if res.status in ("skipped", "passed"):
            res.status = "warning"
            res.reason = res.reason or reason

    def finish(self) -> Verdict:
        if self._failures:
            _, key, layer, code, reason = min(self._failures)
            self.verified, self.sip_code, self.reason, self.failed_layer, self.failure = False, code, reason, layer, key
        else:
            self.verified, self.sip_code, self.reason, self.failed_layer, self.failure = True, 200, "verified", "", ""
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "sip_code": self.sip_code,
            "reason": self.reason,
            "failed_layer": self.failed_layer,
            "failure": self.failure,
            "layers": {name: res.to_dict() for name, res in self.layers.items()},
            "warnings": self.warnings,
            "attest": self.attest,
            "origid": self.origid,
            "orig_tn": self.orig_tn,
            "dest_tns": self.dest_tns,
            "iat": self.iat,
            "delta_seconds": self.delta_seconds,
            "x5u": self.x5u,
            "spc": self.spc,
            "cert_fingerprint": self.cert_fingerprint,
            "cert_subject": self.cert_subject,
            "cert_issuer": self.cert_issuer,
            "signature_valid": self.signature_valid,
            "orig_mismatch": self.orig_mismatch,
            "other_headers": self.other_headers,
        }


# --- Identity header (RFC 8224) --------------------------------------------------------------


@dataclass
class IdentityHeader:
    token: str
    params: dict[str, str]
    bracketed: set[str]
    duplicates: list[str]
    raw: str


def _split_top(text: str, sep: str) -> list[str]:
    """Split on `sep` outside <...>; fast when there is nothing to protect."""
    if sep not in text:
        return [text]
    if "<" not in text:
        return text.split(sep)
    out: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(text):
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth = max(0, depth - 1)
        elif ch == sep and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return out


def split_identity_headers(raw: str | Iterable[str]) -> list[str]:
    """Several Identity headers may arrive as a list, one per line, or comma-joined (SIP
    allows folding repeated headers into one). Commas inside <...> belong to a URI."""
    items = [raw] if isinstance(raw, str) else list(raw)
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            continue
        lines = item.replace("\r", "\n").split("\n") if ("\n" in item or "\r" in item) else [item]
        for line in lines:
            out.extend(_split_top(line, ","))
    cleaned = []
    for value in out:
        value = value.strip()
        if value[:9].lower() == "identity:":
            value = value[9:].strip()
        if value:
            cleaned.append(value)
    return cleaned


def parse_identity_header(value: str) -> IdentityHeader:
    """Token, then `;name=value` parameters; `<...>` values may contain `;`."""
    token, _, rest = value.partition(";")
    parts = [token, *_split_top(rest, ";")] if rest else [token]
    token = parts[0].strip()
    params: dict[str, str] = {}
    bracketed: set[str] = set()
    duplicates: list[str] = []
    for part in parts[1:]:
        name, _, val = part.partition("=")
        name, val = name.strip().lower(), val.strip()
        if not name:
            continue
        if val.startswith("<") and val.endswith(">"):
            val = val[1:-1].strip()
            bracketed.add(name)
        elif len(val) >= 2 and val[0] == val[-1] == '"':
            val = val[1:-1]
        if name in params:
            duplicates.append(name)
            continue
        params[name] = val
    return IdentityHeader(token=token, params=params, bracketed=bracketed, duplicates=duplicates, raw=value)


# --- Compact JWS -----------------------------------------------------------------------------

_B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*$")


_TO_STD = str.maketrans("-_", "+/")


def b64url_decode(segment: str) -> bytes:
    """Strict base64url without padding: any other character is an error (the standard
    library's default decoder silently drops them)."""
    if len(segment) > MAX_SEGMENT_CHARS or len(segment) % 4 == 1 or "+" in segment or "/" in segment or "=" in segment:
        raise ValueError("not base64url")
    try:
        return binascii.a2b_base64((segment + "=" * (-len(segment) % 4)).translate(_TO_STD), strict_mode=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class Jws:
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def decode_jws(token: str) -> Jws:
    """Raise ValueError with a readable reason on any structural defect."""
    pieces = token.split(".")
    if len(pieces) != 3:
        raise ValueError(f"a compact JWS has three dot-separated segments, this has {len(pieces)}")
    h64, c64, s64 = pieces
    try:
        hdr_bytes, claim_bytes, sig = b64url_decode(h64), b64url_decode(c64), b64url_decode(s64)
    except (ValueError, binascii.Error):
        raise ValueError("a JWS segment is not base64url") from None
    try:
        header = orjson.loads(hdr_bytes)
    except (ValueError, UnicodeDecodeError):
        raise ValueError("the protected header is not JSON") from None
    try:
        claims = orjson.loads(claim_bytes)
    except (ValueError, UnicodeDecodeError):
        raise ValueError("the claims segment is not JSON") from None
    if not isinstance(header, dict):
        raise ValueError("the protected header is not a JSON object")
    if not isinstance(claims, dict):
        raise ValueError("the claims are not a JSON object")
    if len(sig) != 64:
        raise ValueError(f"an ES256 signature is 64 bytes (R||S), this one is {len(sig)}")
    return Jws(header=header, claims=claims, signing_input=f"{h64}.{c64}".encode("ascii"), signature=sig)


def es256_verify(public_key: Any, signing_input: bytes, raw_sig: bytes) -> bool:
    """ES256 carries the raw 64-byte R||S; `cryptography` wants DER."""
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or len(raw_sig) != 64:
        return False
    der = encode_dss_signature(int.from_bytes(raw_sig[:32], "big"), int.from_bytes(raw_sig[32:], "big"))
    try:
        public_key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


# --- Certificates ----------------------------------------------------------------------------


def parse_tn_auth_list(der: bytes) -> list[tuple[str, Any]]:
    """RFC 8226 TNAuthorizationList: SEQUENCE OF CHOICE { spc [0], range [1], one [2] },
    explicitly tagged. Returns (kind, value) pairs; raises ValueError on bad DER."""
    tag, body, end = read_der(der, 0)
    if tag != 0x30 or end != len(der):
        raise ValueError("TNAuthList is not one DER SEQUENCE")
    entries: list[tuple[str, Any]] = []
    i = 0
    while i < len(body):
        tag, val, i = read_der(body, i)
        if tag == 0xA0:
            inner_tag, inner, _ = read_der(val, 0)
            if inner_tag != 0x16:
                raise ValueError("SPC is not an IA5String")
            entries.append(("spc", inner.decode("ascii")))
        elif tag == 0xA2:
            _, inner, _ = read_der(val, 0)
            entries.append(("one", inner.decode("ascii", "replace")))
        elif tag == 0xA1:
            entries.append(("range", val.hex()))
        else:
            raise ValueError(f"unknown TNEntry tag {tag:#x}")
    return entries


def tn_auth_list_of(cert: x509.Certificate) -> list[tuple[str, Any]] | None:
    """None when the certificate has no TNAuthList; raises ValueError when it is undecodable."""
    try:
        ext = cert.extensions.get_extension_for_oid(TN_AUTH_LIST_OID)
    except x509.ExtensionNotFound:
        return None
    value = ext.value
    raw = value.value if isinstance(value, x509.UnrecognizedExtension) else value.public_bytes()
    return parse_tn_auth_list(raw)


def spc_of(cert: x509.Certificate) -> str:
    """The SPC from TNAuthList (never from the CN), or '' when absent or undecodable."""
    try:
        entries = tn_auth_list_of(cert) or []
    except (ValueError, UnicodeDecodeError):
        return ""
    spcs = [v for k, v in entries if k == "spc"]
    return spcs[0] if len(spcs) == 1 else ""


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def _validity(cert: x509.Certificate) -> tuple[dt.datetime, dt.datetime]:
    return cert.not_valid_before_utc, cert.not_valid_after_utc


def leaf_profile_faults(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    """The SHAKEN leaf rules that decide whether we accept a credential (fatal), plus the
    hygiene findings we record without refusing the call (warnings)."""
    fatal: list[str] = []
    warn: list[str] = []
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        fatal.append("subject key is not EC P-256")
    try:
        entries = tn_auth_list_of(cert)
    except (ValueError, UnicodeDecodeError) as exc:
        fatal.append(f"TNAuthList cannot be decoded ({exc})")
        entries = []
    else:
        if entries is None:
            fatal.append("no TNAuthList extension")
        elif len(entries) != 1 or entries[0][0] != "spc":
            fatal.append(f"TNAuthList must hold exactly one SPC entry, holds {[k for k, _ in entries]}")
        elif not entries[0][1] or not re.fullmatch(r"[A-Za-z0-9]+", entries[0][1]):
            fatal.append(f"SPC {entries[0][1]!r} is not letters and digits")
        elif entries[0][1] != entries[0][1].upper():
            warn.append(f"SPC {entries[0][1]!r} is not upper case")
    try:
        policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
        oids = [p.policy_identifier.dotted_string for p in policies]
        shaken = [o for o in oids if o in SHAKEN_POLICIES]
        if not shaken:
            fatal.append(f"no SHAKEN certificate policy (has {oids})")
        elif len(oids) != 1:
            warn.append(f"more than one certificate policy: {oids}")
        elif shaken[0] not in CURRENT_POLICIES:
            warn.append(f"asserts an older SHAKEN policy {shaken[0]}")
    except x509.ExtensionNotFound:
        fatal.append("no certificatePolicies extension")
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
        if bc.value.ca:
            fatal.append("the signing certificate is a CA certificate")
        if not bc.critical:
            warn.append("basicConstraints is not critical")
    except x509.ExtensionNotFound:
        warn.append("no basicConstraints extension")
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
        if not ku.value.digital_signature:
            fatal.append("keyUsage lacks digitalSignature")
        if not ku.critical:
            warn.append("keyUsage is not critical")
    except x509.ExtensionNotFound:
        fatal.append("no keyUsage extension")
    return fatal, warn


def _is_ca(cert: x509.Certificate, strict: bool) -> str:
    """'' when `cert` may issue certificates, else why not."""
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return f"{cert.subject.rfc4514_string()} has no basicConstraints"
    if not bc.ca:
        return f"{cert.subject.rfc4514_string()} is not a CA"
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        if not ku.key_cert_sign:
            return f"{cert.subject.rfc4514_string()} may not sign certificates (keyUsage)"
    except x509.ExtensionNotFound:
        if strict:
            return f"{cert.subject.rfc4514_string()} has no keyUsage"
    return ""


@dataclass
class ChainResult:
    path: list[x509.Certificate]
    error: str
    not_before: dt.datetime | None = None
    not_after: dt.datetime | None = None


def build_chain(
    leaf: x509.Certificate, intermediates: list[x509.Certificate], anchors: list[x509.Certificate], *, strict: bool
) -> ChainResult:
    """Our own path building: walk issuer links by name and signature up to an anchor.
    Time is *not* checked here so the result can be cached; the caller checks the window
    [not_before, not_after] of the whole path against the call time."""
    path = [leaf]
    current = leaf
    anchor_fps = {fingerprint(a) for a in anchors}
    for _ in range(6):
        if fingerprint(current) in anchor_fps:
            return _finish_path(path)
        issuer = None
        for cand in [*anchors, *intermediates]:
            if cand.subject != current.issuer or cand is current:
                continue
            if not verify_issued_by(current, cand):
                continue
            issuer = cand
            break
        if issuer is None:
            return ChainResult(path, f"no trusted issuer found for {current.subject.rfc4514_string() or current.issuer.rfc4514_string()}")
        why = _is_ca(issuer, strict) or _path_len_exceeded(issuer, below=len(path) - 1)
        if why:
            return ChainResult(path, why)
        path.append(issuer)
        if fingerprint(issuer) in anchor_fps:
            return _finish_path(path)
        current = issuer
    return ChainResult(path, "certificate path too long")


# Extensions whose meaning we apply (or that the SHAKEN profile defines). A critical
# extension outside this set must make the path fail (RFC 5280 §4.2).
_UNDERSTOOD = {
    x509.oid.ExtensionOID.BASIC_CONSTRAINTS, x509.oid.ExtensionOID.KEY_USAGE, x509.oid.ExtensionOID.CERTIFICATE_POLICIES,
    x509.oid.ExtensionOID.CRL_DISTRIBUTION_POINTS, x509.oid.ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    x509.oid.ExtensionOID.SUBJECT_KEY_IDENTIFIER, x509.oid.ExtensionOID.EXTENDED_KEY_USAGE, TN_AUTH_LIST_OID,
}


def _path_len_exceeded(ca: x509.Certificate, *, below: int) -> str:
    """`below`: CA certificates between this one and the leaf."""
    try:
        limit = ca.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length
    except x509.ExtensionNotFound:
        return ""
    if limit is not None and below > limit:
        return f"{ca.subject.rfc4514_string()} allows {limit} CA certificates below it, the path has {below}"
    return ""


def _finish_path(path: list[x509.Certificate]) -> ChainResult:
    for cert in path[:-1]:  # the anchor is trusted as configured
        try:
            odd = [e.oid.dotted_string for e in cert.extensions if e.critical and e.oid not in _UNDERSTOOD]
        except Exception:  # noqa: BLE001 - undecodable extensions
            return ChainResult(path, f"{cert.subject.rfc4514_string()} has undecodable extensions")
        if odd:
            return ChainResult(path, f"{cert.subject.rfc4514_string()} has unknown critical extensions {odd}")
    return _window(path, "")


def _window(path: list[x509.Certificate], error: str) -> ChainResult:
    return ChainResult(
        path,
        error,
        max(c.not_valid_before_utc for c in path),
        min(c.not_valid_after_utc for c in path),
    )


# --- Time --------------------------------------------------------------------------------------


def to_utc(value: dt.datetime | str | int | float) -> dt.datetime:
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        s = value.strip()
        if s.isdigit():
            return dt.datetime.fromtimestamp(int(s), UTC)
        value = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# --- Configuration and the verifier --------------------------------------------------------


@dataclass
class CallContext:
    call_time: dt.datetime
    orig_tn: str | None = None
    dest_tn: str | None = None
    date_header: str | None = None
    from_user: str | None = None


_NON_DIGITS = re.compile(r"\D+")
_UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def normalise_tn(tn: str) -> str:
    return _NON_DIGITS.sub("", tn)


def _tn_matches(claimed: str, actual: str) -> tuple[bool, bool]:
    """(match, by-last-10-digits). Real traffic mixes national and E.164 forms."""
    a, b = normalise_tn(claimed), normalise_tn(actual)
    if a == b:
        return True, False
    if len(a) >= 10 and len(b) >= 10 and a[-10:] == b[-10:]:
        return True, True
    return False, False


@dataclass
class _CachedChain:
    certs: list[x509.Certificate]
    leaf_key: Any
    fp: str
    spc: str
    subject: str
    issuer: str
    leaf_window: tuple[dt.datetime, dt.datetime]
    profile_fatal: list[str]
    profile_warn: list[str]
    chain: dict[bool, ChainResult] = field(default_factory=dict)


class Verifier:
    """Holds trust anchors, a certificate source and warm caches; thread-safe for reads.

    `verify()` never raises: it returns a Verdict whatever the input."""

    def __init__(
        self,
        *,
        trust_anchors: Iterable[x509.Certificate] = (),
        source: CertificateSource | None = None,
        freshness_seconds: int = 60,
        cert_profile: str = "strict",
        crls: Iterable[x509.CertificateRevocationList] = (),
        require_date_fresh: bool = True,
        reject_unknown_params: bool = False,
    ) -> None:
        self.trust_anchors = list(trust_anchors)
        self.source = source
        self.freshness_seconds = freshness_seconds
        self.cert_profile = cert_profile
        self.crls = list(crls)
        self.require_date_fresh = require_date_fresh
        # RFC 8224 ignores unknown Identity parameters; the French MAN plan refuses them.
        self.reject_unknown_params = reject_unknown_params
        self._chains: dict[str, _CachedChain | FetchResult] = {}
        self._by_fp: dict[str, _CachedChain] = {}
        self._failed_at: dict[str, float] = {}
        self.failure_ttl = 300.0
        self._lock = threading.Lock()

    # The certificate cache is keyed by URL *and* fingerprint: the URL entry points at the
    # fingerprint of what it served, so two URLs serving the same chain share its checks.
    def _chain_for(self, url: str) -> _CachedChain | FetchResult:
        cached = self._chains.get(url)
        if cached is not None:
            # Failures are remembered briefly only: a timeout now must not mean "no
            # certificate" for the rest of the process's life.
            if not isinstance(cached, FetchResult) or time.monotonic() - self._failed_at.get(url, 0.0) < self.failure_ttl:
                return cached
        if self.source is None:
            result: _CachedChain | FetchResult = FetchResult(error="no certificate source configured (offline, no store)")
        else:
            fetched = self.source.fetch(url)
            result = fetched if fetched.error else self._prepare(fetched.certs, fetched.notes)
        with self._lock:
            if len(self._chains) > 10_000:
                self._chains.clear()
            self._chains[url] = result
            if isinstance(result, FetchResult):
                self._failed_at[url] = time.monotonic()
        return result

    def _prepare(self, certs: list[x509.Certificate], notes: list[str] | None = None) -> _CachedChain:
        # Second cache level, by the fingerprints of what was served: URLs rotate and
        # several URLs serve the same chain; its profile and path checks are done once.
        key = "|".join(fingerprint(c) for c in certs)
        known = self._by_fp.get(key)
        if known is not None:
            return known
        leaf = certs[0]
        fatal, warn = leaf_profile_faults(leaf)
        warn = [*warn, *(notes or [])]
        prepared = _CachedChain(
            certs=certs,
            leaf_key=leaf.public_key(),
            fp=fingerprint(leaf),
            spc=spc_of(leaf),
            subject=leaf.subject.rfc4514_string(),
            issuer=leaf.issuer.rfc4514_string(),
            leaf_window=_validity(leaf),
            profile_fatal=fatal,
            profile_warn=warn,
        )
        with self._lock:
            if len(self._by_fp) > 10_000:
                self._by_fp.clear()
            self._by_fp[key] = prepared
        return prepared

    def verify(self, identity: str | Iterable[str] | None, ctx: CallContext) -> Verdict:
        try:
            return self._verify(identity, ctx)
        except Exception as exc:  # noqa: BLE001 - the contract is "a verdict, never an exception"
            v = Verdict()
            v.fail("passport.structure", 438, f"unexpected input defect: {type(exc).__name__}")
            return v.finish()

    def _verify(self, identity: str | Iterable[str] | None, ctx: CallContext) -> Verdict:
        v = Verdict()
        call_time = to_utc(ctx.call_time)
        headers = split_identity_headers(identity) if identity else []
        if not headers:
            v.fail("header.missing", 428, "no Identity header")
            return v.finish()
        if sum(len(h) for h in headers) > MAX_HEADER_CHARS:
            v.fail("passport.structure", 438, f"Identity header longer than {MAX_HEADER_CHARS} characters")
            return v.finish()
        parsed = [parse_identity_header(h) for h in headers]
        # The SHAKEN header is the one whose ppt says so; otherwise the first one.
        chosen = next((p for p in parsed if p.params.get("ppt", "").lower() == "shaken"), parsed[0])
        others = [p for p in parsed if p is not chosen]

        # 1. Structure of the compact JWS.
        try:
            jws = decode_jws(chosen.token)
        except ValueError as exc:
            v.fail("passport.structure", 438, str(exc))
            return v.finish()

        # 2. Identity header parameters.
        params = chosen.params
        if "info" not in params:
            v.fail("header.info", 436, "Identity header has no info parameter")
        elif "info" not in chosen.bracketed:
            v.fail("header.info", 436, "info parameter is not an <absoluteURI>")
        if "alg" not in params:
            v.fail("header.alg", 437, "Identity header has no alg parameter")
        elif params["alg"] != "ES256":
            v.fail("header.alg", 437, f"Identity alg {params['alg'][:20]!r} is not ES256")
        if "ppt" not in params:
            v.fail("header.ppt", 438, "Identity header has no ppt parameter")
        elif params["ppt"] != "shaken":
            v.fail("header.ppt", 438, f"Identity ppt {params['ppt'][:20]!r} is not shaken")
        unknown = sorted(set(params) - _KNOWN_PARAMS) if len(params) > 3 or not params.keys() <= _KNOWN_PARAMS else []
        if unknown and self.reject_unknown_params:
            v.fail("header.ppt", 438, f"unknown Identity parameters: {unknown[:5]}")
        elif unknown:
            # RFC 8224 ignores unknown parameters; the French MAN plan refuses them.
            v.warn("header", f"unknown Identity parameters ignored: {unknown[:5]}")
        if chosen.duplicates:
            v.warn("header", f"repeated Identity parameters: {chosen.duplicates[:5]}")

        # 3. PASSporT protected header.
        hdr = jws.header
        if hdr.get("alg") != "ES256":
            v.fail("passport.header", 437, f"PASSporT alg {str(hdr.get('alg'))[:20]!r} is not ES256")
        if hdr.get("typ") != "passport":
            v.fail("passport.header", 437, f"PASSporT typ {str(hdr.get('typ'))[:20]!r} is not passport")
        if "ppt" not in hdr:
            v.fail("passport.header", 436, "PASSporT header has no ppt")
        elif hdr.get("ppt") != "shaken":
            v.fail("passport.header", 438, f"PASSporT ppt {str(hdr.get('ppt'))[:20]!r} is not shaken")
        x5u = hdr.get("x5u")
        if not isinstance(x5u, str):
            v.fail("passport.header", 436, "PASSporT header has no x5u")
            x5u = ""
        v.x5u = x5u[:2048]

        # 4. Claims.
        self._check_claims(v, jws.claims)
        iat = jws.claims.get("iat")
        if "iat" not in jws.claims:
            v.fail("freshness.iat_claim", 403, "claims have no iat")
        elif isinstance(iat, bool) or not isinstance(iat, int):
            v.fail("freshness.iat_claim", 403, "iat is not an integer NumericDate")
        elif iat <= 0:
            v.fail("freshness.iat_claim", 403, f"iat {iat} is not a positive NumericDate")
        else:
            v.iat = iat
            v.delta_seconds = int(call_time.timestamp()) - iat
            if abs(v.delta_seconds) > self.freshness_seconds:
                side = "before" if v.delta_seconds > 0 else "after"
                v.fail("freshness.window", 403, f"iat is {abs(v.delta_seconds)} s {side} the call (window {self.freshness_seconds} s)")
            else:
                v.ok("freshness", "iat within the window", delta_seconds=v.delta_seconds)
        if ctx.date_header:
            try:
                date = email.utils.parsedate_to_datetime(ctx.date_header)
                if date.tzinfo is None:
                    date = date.replace(tzinfo=UTC)
                skew = int((call_time - date).total_seconds())
                if self.require_date_fresh and abs(skew) > self.freshness_seconds:
                    v.fail("freshness.window", 403, f"SIP Date is {abs(skew)} s away from the call time")
            except (TypeError, ValueError, IndexError, OverflowError):
                v.fail("freshness.window", 403, "SIP Date header cannot be parsed")

        # 5. info = x5u, and the URL rules.
        info = params.get("info")
        url_ok = False
        if x5u and info is not None and info != x5u:
            v.fail("header.info_x5u", 436, "info parameter differs from the PASSporT x5u")
        elif x5u or info is not None:
            why = check_x5u_url(x5u or info or "")
            if why:
                v.fail("header.info_x5u", 436, f"x5u unusable: {why}")
            else:
                url_ok = True
        if url_ok and v.layers["header"].status != "failed":
            v.ok("header", "info, alg and ppt as SHAKEN requires")
        if v.layers["passport"].status != "failed":
            v.ok("passport", "well-formed SHAKEN PASSporT")

        # 6. Certificate, chain, signature.
        if url_ok:
            self._check_credential(v, x5u, jws, call_time)

        # 7. Other Identity headers (RFC 8946 diversion), then the call itself.
        diverted_to = self._check_others(v, others, call_time) if others else []
        self._check_call(v, ctx, diverted_to)
        return v.finish()

    def _check_others(self, v: Verdict, others: list[IdentityHeader], call_time: dt.datetime) -> list[str]:
        """Record every other Identity header; verify `div` PASSporTs (RFC 8946): signed,
        chained, fresh, `orig` unchanged and `div.tn` one of the SHAKEN `dest` numbers.
        Returns the new targets of verified diversions (they explain a different To)."""
        targets: list[str] = []
        for p in others[:5]:
            entry: dict[str, Any] = {"ppt": p.params.get("ppt", ""), "info": p.params.get("info", "")}
            v.other_headers.append(entry)
            if entry["ppt"] != "div":
                continue
            entry["verified"], entry["reason"] = False, ""
            try:
                jws = decode_jws(p.token)
            except ValueError as exc:
                entry["reason"] = str(exc)
                continue
            hdr, claims = jws.header, jws.claims
            x5u_given = hdr.get("x5u")
            x5u = x5u_given if isinstance(x5u_given, str) else ""
            div, dest, orig = claims.get("div"), claims.get("dest"), claims.get("orig")
            div_tn = div.get("tn") if isinstance(div, dict) else None
            new_dest = dest.get("tn") if isinstance(dest, dict) else None
            iat = claims.get("iat")
            why = ""
            if hdr.get("alg") != "ES256" or hdr.get("typ") != "passport" or hdr.get("ppt") != "div":
                why = "div PASSporT header is not alg ES256, typ passport, ppt div"
            elif not isinstance(div_tn, str) or div_tn not in v.dest_tns:
                why = "div.tn is not one of the SHAKEN dest numbers"
            elif not isinstance(orig, dict) or orig.get("tn") != v.orig_tn:
                why = "div orig differs from the SHAKEN orig"
            elif not isinstance(new_dest, list) or not all(isinstance(t, str) and TN_RE.match(t) for t in new_dest):
                why = "div dest.tn is not an array of numbers"
            elif isinstance(iat, bool) or not isinstance(iat, int) or abs(int(call_time.timestamp()) - iat) > self.freshness_seconds:
                why = "div iat missing or outside the window"
            elif p.params.get("info") != x5u or check_x5u_url(x5u):
                why = "div x5u/info unusable"
            else:
                got = self._chain_for(x5u)
                if isinstance(got, FetchResult):
                    why = f"div certificate not obtained: {got.error}"
                else:
                    strict = self.cert_profile == "strict"
                    chain = got.chain.get(strict)
                    if chain is None:
                        chain = got.chain[strict] = build_chain(got.certs[0], got.certs[1:], self.trust_anchors, strict=strict)
                    if chain.error or not (chain.not_before and chain.not_after and chain.not_before <= call_time <= chain.not_after):
                        why = "div certificate does not chain to a trust anchor at call time"
                    elif not es256_verify(got.leaf_key, jws.signing_input, jws.signature):
                        why = "div signature does not verify"
                    else:
                        entry["spc"] = got.spc
            entry["div"], entry["dest"] = div_tn if isinstance(div_tn, str) else "", new_dest if isinstance(new_dest, list) else []
            if why:
                entry["reason"] = why
                v.warn("call_match", f"div header not verified: {why}")
            else:
                entry["verified"], entry["reason"] = True, "verified diversion"
                targets.extend(new_dest)  # type: ignore[arg-type]  # checked above to be a list of numbers
        return targets

    def _check_claims(self, v: Verdict, claims: dict[str, Any]) -> None:
        attest = claims.get("attest")
        if attest is None:
            v.fail("passport.claims", 438, "claims have no attest")
        elif attest not in ("A", "B", "C"):
            v.fail("passport.claims", 438, f"attest {str(attest)[:10]!r} is not A, B or C")
        else:
            v.attest = attest
        origid = claims.get("origid")
        if isinstance(origid, str):
            v.origid = origid[:100]
            if not _UUID_RE.fullmatch(origid):
                v.warn("passport", "origid is not a UUID")
        elif origid is None:
            v.warn("passport", "claims have no origid")
        else:
            v.fail("passport.claims", 438, "origid is not a string")

        orig = claims.get("orig")
        if orig is None:
            v.fail("passport.claims", 403, "claims have no orig")
        elif not isinstance(orig, dict):
            v.fail("passport.claims", 438, "orig is not a JSON object")
        elif not isinstance(orig.get("tn"), str):
            v.fail("passport.claims", 438, "orig has no tn string")
        elif orig["tn"] == "":
            v.fail("passport.claims", 403, "orig.tn is empty")
        elif not TN_RE.match(orig["tn"]):
            v.fail("passport.claims", 438, "orig.tn is not a telephone number")
        else:
            v.orig_tn = orig["tn"]
            if orig["tn"].startswith("+"):
                v.warn("passport", "orig.tn carries a '+' (RFC 8224 canonical form has none)")
        dest = claims.get("dest")
        if dest is None:
            v.fail("passport.claims", 403, "claims have no dest")
        elif not isinstance(dest, dict):
            v.fail("passport.claims", 438, "dest is not a JSON object")
        elif not isinstance(dest.get("tn"), list):
            v.fail("passport.claims", 438, "dest.tn is not an array")
        elif not dest["tn"] or all(t == "" for t in dest["tn"]):
            v.fail("passport.claims", 403, "dest.tn is empty")
        elif not all(isinstance(t, str) and TN_RE.match(t) for t in dest["tn"]):
            v.fail("passport.claims", 438, "dest.tn holds something that is not a telephone number")
        else:
            v.dest_tns = list(dest["tn"])[:10]

    def _check_credential(self, v: Verdict, x5u: str, jws: Jws, call_time: dt.datetime) -> None:
        got = self._chain_for(x5u)
        if isinstance(got, FetchResult):
            v.fail("certificate.fetch", 436, f"certificate not obtained: {got.error}")
            return
        v.cert_fingerprint, v.spc, v.cert_subject, v.cert_issuer = got.fp, got.spc, got.subject, got.issuer
        nb, na = got.leaf_window
        if call_time < nb:
            v.fail("certificate.validity", 437, f"signing certificate not yet valid at the call (from {nb.isoformat()})")
        elif call_time > na:
            v.fail("certificate.validity", 437, f"signing certificate expired before the call ({na.isoformat()})")
        strict = self.cert_profile == "strict"
        if strict:
            for fault in got.profile_fatal:
                v.fail("certificate.profile", 437, f"certificate profile: {fault}")
            for w in got.profile_warn:
                v.warn("certificate", w)
        if v.layers["certificate"].status != "failed":
            v.ok("certificate", "SHAKEN certificate valid at call time" if strict else "certificate valid at call time")

        chain = got.chain.get(strict)
        if chain is None:
            chain = build_chain(got.certs[0], got.certs[1:], self.trust_anchors, strict=strict)
            got.chain[strict] = chain
        if chain.error:
            v.fail("chain.untrusted", 438, f"does not chain to a trust anchor: {chain.error}")
        elif chain.not_before and chain.not_after and not (chain.not_before <= call_time <= chain.not_after):
            v.fail("chain.untrusted", 438, "a certificate of the chain was not valid at the call time")
        else:
            revoked = self._revoked(chain.path, call_time) if self.crls else ""
            if revoked:
                v.fail("chain.revoked", 438, revoked)
            else:
                v.ok("chain", "chains to a trust anchor", length=len(chain.path))

        v.signature_valid = es256_verify(got.leaf_key, jws.signing_input, jws.signature)
        if v.signature_valid:
            v.ok("signature", "ES256 signature verifies")
        else:
            v.fail("signature.invalid", 438, "ES256 signature does not verify with the x5u certificate")

    def _revoked(self, path: list[x509.Certificate], call_time: dt.datetime) -> str:
        for cert, issuer in zip(path, path[1:], strict=False):
            for crl in self.crls:
                if crl.issuer != cert.issuer:
                    continue
                try:
                    if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]  # SHAKEN certificates carry EC keys
                        continue
                except (TypeError, ValueError):
                    continue
                entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
                if entry is not None and entry.revocation_date_utc <= call_time:
                    return f"{cert.subject.rfc4514_string()} was revoked on {entry.revocation_date_utc.isoformat()}"
        return ""

    def _check_call(self, v: Verdict, ctx: CallContext, diverted_to: list[str] | None = None) -> None:
        checked = False
        if ctx.orig_tn is not None and ctx.orig_tn.strip() != "":
            # Presentation characters are fine in the report; anything else is malformed.
            orig = _FORMATTING.sub("", ctx.orig_tn)
            if not TN_RE.match(orig):
                v.fail("call_match.malformed", 400, f"the call's calling number {ctx.orig_tn[:20]!r} is malformed")
            elif v.orig_tn:
                match, loose = _tn_matches(v.orig_tn, orig)
                if not match:
                    v.orig_mismatch = True
                    v.fail("call_match.mismatch", 438, "orig.tn differs from the calling number")
                elif loose:
                    v.warn("call_match", "orig matched on the last 10 digits only")
                checked = True
        if ctx.dest_tn is not None and ctx.dest_tn.strip() != "" and v.dest_tns:
            dest = _FORMATTING.sub("", ctx.dest_tn)
            results = [_tn_matches(t, dest) for t in v.dest_tns]
            if not any(m for m, _ in results) and any(_tn_matches(t, dest)[0] for t in diverted_to or []):
                v.warn("call_match", "the called number is the target of a verified diversion (RFC 8946)")
            elif not any(m for m, _ in results):
                v.fail("call_match.mismatch", 438, "dest.tn does not contain the called number")
            elif not any(m and not loose for m, loose in results):
                v.warn("call_match", "dest matched on the last 10 digits only")
            checked = True
        if checked:
            v.ok("call_match", "orig and dest match the call")


_FORMATTING = re.compile(r"[\s().\-]")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


VerifierFactory = Callable[[], Verifier]

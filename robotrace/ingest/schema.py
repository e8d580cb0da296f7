"""The call-report wire schema (NDJSON objects and CSV columns share the same names) and the
normalisation of one report into a database row.

Decoding is msgspec: one `Decoder` per format, one `decode` per line, so a bad line is
rejected on its own with the field msgspec names. Normalisation is plain Python over the
decoded Struct, returning a tuple in `COLUMNS` order that the writer hands straight to
COPY / executemany (no ORM objects on the hot path).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Annotated, Any, Literal

import msgspec
import orjson
from msgspec import Meta

from robotrace.core import phones
from robotrace.ingest import conf

_check = phones.check

ReportType = Literal["carrier_analytics", "app_report", "honeypot", "complaint"]
REPORT_TYPES = ("carrier_analytics", "app_report", "honeypot", "complaint")

Str16 = Annotated[str, Meta(max_length=16)]
Str40 = Annotated[str, Meta(max_length=40)]
Str64 = Annotated[str, Meta(max_length=64)]
Str80 = Annotated[str, Meta(max_length=80)]
Str100 = Annotated[str, Meta(max_length=100)]
Str128 = Annotated[str, Meta(min_length=1, max_length=128)]
Str200 = Annotated[str, Meta(max_length=200)]
Str500 = Annotated[str, Meta(max_length=500)]
Text = Annotated[str, Meta(max_length=100_000)]
Sha256 = Annotated[str, Meta(pattern="^([0-9a-f]{64})?$")]
StateCode = Annotated[str, Meta(pattern="^([A-Za-z]{2})?$")]


class ReportIn(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    """One call report as a reporter sends it. Unknown fields are rejected by name.

    `gc=False`: it only ever holds strings, numbers and a list of strings, so it can never be
    part of a reference cycle; untracked, a million of them do not trigger garbage collections."""

    source_report_id: Str128
    report_type: ReportType
    call_started_at: datetime
    calling_number: Str40 = ""
    called_number: Str40 = ""
    called_state: StateCode = ""
    duration_seconds: Annotated[int, Meta(ge=0, le=86_400)] | None = None
    caller_name: Str100 = ""
    transcript: Text = ""
    recording_url: Str500 = ""
    recording_sha256: Sha256 = ""
    callback_numbers: Annotated[list[Str40], Meta(max_length=20)] = []
    category: Str80 = ""
    upstream_provider: Str200 = ""
    identity_header: Annotated[str, Meta(max_length=8_000)] = ""
    subject: Str200 = ""
    consumer_state: StateCode = ""
    consumer_city: Str100 = ""
    is_robocall: bool | None = None


FIELDS: tuple[str, ...] = ReportIn.__struct_fields__
REQUIRED_FIELDS = ("source_report_id", "report_type", "call_started_at")

# Database columns in the order the writer sends them. The writer prepends reporter_id and
# upload_id (constant for a whole upload) and the PostgreSQL writer the report id.
COLUMNS: tuple[str, ...] = (
    "source_report_id",
    "report_type",
    "received_at",
    "call_started_at",
    "calling_number",
    "calling_number_e164",
    "called_number",
    "called_state",
    "duration_seconds",
    "caller_name",
    "transcript",
    "recording_url",
    "recording_sha256",
    "callback_numbers",
    "category",
    "upstream_provider",
    "identity_header",
    "shaken_attest",
    "shaken_origid",
    "subject",
    "consumer_state",
    "consumer_city",
    "is_robocall",
    "is_calling_number_invalid",
    "is_called_number_dnc",
)
CALLED_NUMBER_INDEX = COLUMNS.index("called_number")
DNC_INDEX = COLUMNS.index("is_called_number_dnc")

_MSG_PATH = re.compile(r"at `\$\.([A-Za-z_][A-Za-z0-9_]*)")
_MSG_FIELD = re.compile(r"field `([^`]+)`")


@dataclass(frozen=True, slots=True)
class Reject:
    line: int
    field: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "reason": self.reason}


class RowError(ValueError):
    def __init__(self, field: str | None, reason: str):
        super().__init__(reason)
        self.field = field
        self.reason = reason


def reject_from_msgspec(line: int, exc: Exception) -> Reject:
    """Turn a msgspec error into {line, field, reason} with the field named when there is one."""
    message = str(exc)
    field: str | None = None
    m = _MSG_PATH.search(message)
    if m:
        field = m.group(1)
    else:
        m = _MSG_FIELD.search(message)
        if m:
            field = m.group(1)
    reason = message.split(" - at `", 1)[0]
    if isinstance(exc, msgspec.DecodeError) and field is None:
        reason = f"malformed JSON: {reason}"
    if "RFC3339" in reason or "datetime" in reason.lower():
        reason = "not a real date and time in ISO 8601 (e.g. 2026-03-01T14:05:00-05:00)"
    return Reject(line, field, reason)


def decode_identity(header: str) -> tuple[str, str]:
    """(attest, origid) from a SIP Identity header's PASSporT, without verifying it.
    Verification is the shaken app's job; intake only keeps what the caller's network claimed."""
    token = header.split(";", 1)[0].strip()
    parts = token.split(".")
    if len(parts) != 3:
        return "", ""
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        return "", ""
    if not isinstance(claims, dict):
        return "", ""
    attest = claims.get("attest")
    origid = claims.get("origid")
    attest = attest if isinstance(attest, str) and attest in ("A", "B", "C") else ""
    origid = origid[:100] if isinstance(origid, str) else ""
    return attest, origid


_encode = msgspec.json.Encoder().encode


def _sqlite_time(value: datetime) -> str:
    # Exactly what Django's SQLite backend stores for an aware datetime: str() of the naive
    # UTC time ("2026-03-01 19:05:00", microseconds only when there are any). msgspec writes
    # the same digits in C ('"2026-03-01T19:05:00Z"'), about 4x cheaper than str().
    return _encode(value.astimezone(UTC))[1:-2].decode().replace("T", " ", 1)


@lru_cache(maxsize=1024)
def _callbacks_json(numbers: tuple[str, ...]) -> str:
    # The column's JSON for a transcript's callback numbers: campaigns repeat a few of them.
    return orjson.dumps(list(numbers)).decode() if numbers else "[]"


class Normaliser:
    """Turns decoded reports of one upload into rows. Holds the upload's context (time zone,
    clock) so each row costs only dictionary lookups and a few comparisons."""

    def __init__(self, *, default_tz: tzinfo | None, now: datetime | None = None, for_sqlite: bool = False):
        self.default_tz = default_tz
        self.now = now or datetime.now(UTC)
        self.latest = self.now + timedelta(seconds=conf.FUTURE_SKEW_SECONDS)
        self.earliest = datetime(conf.EARLIEST_YEAR, 1, 1, tzinfo=UTC)
        self.for_sqlite = for_sqlite
        self.received = _sqlite_time(self.now) if for_sqlite else self.now

    def row(self, r: ReportIn) -> tuple[Any, ...]:
        started = r.call_started_at
        if started.tzinfo is None:
            if self.default_tz is None:
                raise RowError(
                    "call_started_at",
                    "time has no UTC offset; add one (e.g. -05:00) or name the upload's time zone (X-Timezone)",
                )
            started = started.replace(tzinfo=self.default_tz)
        if started > self.latest:
            raise RowError("call_started_at", "call time is in the future")
        if started < self.earliest:
            raise RowError("call_started_at", f"call time is before {conf.EARLIEST_YEAR}")

        report_type = r.report_type
        called_state = r.called_state
        if called_state:
            called_state = called_state.upper()
        if r.called_number:
            called = _check(r.called_number)
            called_e164 = called.e164
            if called.reason or not called_e164:  # not Checked.valid; spelled out, it is hot
                raise RowError("called_number", f"not a valid called number: {called.reason}")
            called_state = called_state or called.state
        elif report_type != "complaint":
            raise RowError("called_number", "required for this report_type")
        else:
            called_e164 = ""

        if r.calling_number:
            calling = _check(r.calling_number)
            calling_e164 = calling.e164
            calling_invalid = bool(calling.reason)
        else:
            # No caller ID at all is itself a masking signal, except for complaints that
            # simply did not record it.
            calling_e164 = ""
            calling_invalid = report_type != "complaint"

        if r.callback_numbers:
            callbacks: list[str] = []
            for given in r.callback_numbers:
                e164 = phones.normalise(given)
                if not e164:
                    raise RowError("callback_numbers", f"not a telephone number: {given!r}")
                if e164 not in callbacks:
                    callbacks.append(e164)
            if r.transcript:
                for e164 in phones.callback_numbers_in(r.transcript):
                    if e164 not in callbacks:
                        callbacks.append(e164)
            callbacks_json = orjson.dumps(callbacks).decode()
        elif r.transcript:
            # The common case: numbers only from the transcript (cached per transcript),
            # and their JSON cached per set of numbers.
            callbacks_json = _callbacks_json(phones.callback_numbers_in(r.transcript))
        else:
            callbacks_json = "[]"

        attest, origid = decode_identity(r.identity_header) if r.identity_header else ("", "")
        consumer_state = r.consumer_state
        return (
            r.source_report_id,
            report_type,
            self.received,
            _sqlite_time(started) if self.for_sqlite else started,
            r.calling_number,
            calling_e164,
            called_e164,
            called_state,
            r.duration_seconds,
            r.caller_name,
            r.transcript,
            r.recording_url,
            r.recording_sha256,
            callbacks_json,
            r.category,
            r.upstream_provider,
            r.identity_header,
            attest,
            origid,
            r.subject,
            consumer_state.upper() if consumer_state else "",
            r.consumer_city,
            r.is_robocall,
            calling_invalid,
            False,  # is_called_number_dnc: filled per batch by the DNC hook
        )

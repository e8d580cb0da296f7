"""Streaming decoders: request/file bytes → (line number, ReportIn | Reject).

Nothing here holds a whole upload in memory: bytes arrive in chunks, gzip is inflated with
a bounded `zlib.decompressobj`, lines are split as they come, and each line is decoded on
its own so one bad line is one reject. Input that cannot be read at all (bad gzip, over the
size cap, an unusable CSV header) raises `ReadProblem`, which the caller turns into a
400/413 problem document after rolling everything back.
"""

from __future__ import annotations

import csv
import hashlib
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, BinaryIO

import msgspec
import orjson

from robotrace.core import phones
from robotrace.ingest import conf
from robotrace.ingest.schema import FIELDS, REQUIRED_FIELDS, Reject, ReportIn, reject_from_msgspec

Item = tuple[int, ReportIn | Reject]


class ReadProblem(Exception):
    """The upload as a whole cannot be read; nothing from it is stored."""

    def __init__(self, status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors


def too_large(cap: int) -> ReadProblem:
    return ReadProblem(413, "Upload too large", f"uploads are limited to {cap:,} bytes (after gzip decoding)")


# --- bytes -----------------------------------------------------------------------------------


def read_chunks(read: Callable[[int], bytes], *, chunk_size: int | None = None) -> Iterator[bytes]:
    size = chunk_size or conf.READ_CHUNK_BYTES
    while True:
        data = read(size)
        if not data:
            return
        yield data


def capped(chunks: Iterable[bytes], cap: int) -> Iterator[bytes]:
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > cap:
            raise too_large(cap)
        yield chunk


def line_capped(chunks: Iterable[bytes], cap: int) -> Iterator[bytes]:
    """Refuse (413) once the decoded input passes `cap` lines. Counted per chunk in C
    (`bytes.count`), so a body of nothing but newlines is stopped after `cap` of them instead
    of being walked line by line in Python."""
    seen = 0
    for chunk in chunks:
        seen += chunk.count(b"\n")
        if seen > cap:
            raise ReadProblem(413, "Too many lines", f"an upload may hold at most {cap:,} lines (blank ones included): split the file and send the parts")
        yield chunk


def gunzip(chunks: Iterable[bytes], *, step: int = 1024 * 1024) -> Iterator[bytes]:
    """Inflate gzip (several members allowed) with at most `step` bytes out per call, so a
    small bomb cannot blow up memory before the size cap sees it."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    fed = False  # has the current member consumed any input?
    try:
        for chunk in chunks:
            data = chunk
            while data:
                fed = True
                out = inflater.decompress(data, step)
                if out:
                    yield out
                data = inflater.unconsumed_tail
                while not data and not inflater.eof:
                    # Output held back by max_length: drain it before reading more.
                    out = inflater.decompress(b"", step)
                    if not out:
                        break
                    yield out
                if inflater.eof:
                    data = inflater.unused_data + data
                    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    fed = False
        if fed and not inflater.eof:
            raise ReadProblem(400, "Unreadable gzip", "the gzip stream ends before its end marker (truncated upload?)")
    except zlib.error as exc:
        raise ReadProblem(400, "Unreadable gzip", f"the body is not valid gzip: {exc}") from exc


def line_blocks(chunks: Iterable[bytes], *, max_line: int | None = None) -> Iterator[tuple[int, list[bytes | None]]]:
    """The lines of each chunk as one list (without newlines), with the number of its first
    line; None stands for a line over the length limit. One step per chunk rather than per
    line, so the NDJSON decoder runs its own tight loop."""
    limit = max_line or conf.MAX_LINE_BYTES
    number = 0
    rest = b""
    skipping = False
    for chunk in chunks:
        parts: list[Any] = (rest + chunk).split(b"\n") if rest else chunk.split(b"\n")
        rest = parts.pop()
        if parts:
            if max(map(len, parts)) > limit:
                parts = [None if len(part) > limit else part for part in parts]
            if skipping:
                # The end of a line whose start was already dropped as too long.
                parts[0] = None
                skipping = False
            yield number + 1, parts
            number += len(parts)
        if len(rest) > limit:
            # A line with no end in sight: drop what we have, keep dropping until the newline.
            skipping = True
            rest = b""
    if skipping:
        yield number + 1, [None]
    elif rest:
        yield number + 1, [rest]


def lines(chunks: Iterable[bytes], *, max_line: int | None = None) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line without newline), or None for a line over the length limit."""
    for first, parts in line_blocks(chunks, max_line=max_line):
        yield from enumerate(parts, first)


def _too_long(number: int) -> Reject:
    return Reject(number, None, f"line longer than {conf.MAX_LINE_BYTES:,} bytes")


# --- NDJSON ----------------------------------------------------------------------------------

_DECODER = msgspec.json.Decoder(ReportIn)
# JSON can carry a NUL character as this escape; no text column can store it on PostgreSQL
# (the whole upload would fail there), so the line is refused, on every database alike.
_NUL_ESCAPE = b"\\u0000"
NUL_REASON = "contains a NUL character (\\u0000), which no text field may hold"


def nul_field(item: ReportIn) -> str | None:
    """The first field of a decoded report holding a NUL character, if any."""
    for name in item.__struct_fields__:
        value = getattr(item, name)
        if isinstance(value, str):
            if "\x00" in value:
                return name
        elif isinstance(value, list) and any(isinstance(v, str) and "\x00" in v for v in value):
            return name
    return None


def nul_column(names: Iterable[str], values: Sequence[str]) -> str | None:
    """The first column of a CSV record holding a NUL character, if any (Python's csv module
    passes NUL through; PostgreSQL text cannot store it)."""
    if "\x00" not in "".join(values):
        return None
    return next(name for name, value in zip(names, values, strict=True) if "\x00" in value)


def row_problem(number: int, header: Sequence[str], row: Sequence[str]) -> Reject | None:
    """Why a CSV record under `header` cannot be read field by field, if it cannot."""
    if len(row) != len(header):
        return Reject(number, None, f"malformed CSV: expected {len(header)} fields, found {len(row)}")
    if (column := nul_column(header, row)) is not None:
        return Reject(number, column, NUL_REASON)
    return None


def ndjson(chunks: Iterable[bytes]) -> Iterator[Item]:
    """NDJSON, and RFC 7464 JSON text sequences (records start with 0x1E)."""
    decode = _DECODER.decode
    errors = (msgspec.ValidationError, msgspec.DecodeError)
    for first, parts in line_blocks(chunks):
        number = first - 1
        # One byte search per block for the NUL escape; lines are looked at only on a hit.
        try:
            suspect = _NUL_ESCAPE in b"".join(parts)  # type: ignore[arg-type]  # a None (a line over the limit) raises TypeError, caught below
        except TypeError:  # a line over the limit (None) in the block
            suspect = True
        for line in parts:
            number += 1
            if line is None:
                yield number, _too_long(number)
                continue
            # Decode first: blank lines and 0x1E record separators are rare, so they are
            # looked for only when a line does not decode (neither is valid JSON).
            try:
                item = decode(line)
            except errors as exc:
                if line[:1] != b"\x1e":
                    if line.strip():
                        yield number, reject_from_msgspec(number, exc)
                    continue
                line = line[1:]
                if not line.strip():
                    continue
                try:
                    item = decode(line)
                except errors as exc2:
                    yield number, reject_from_msgspec(number, exc2)
                    continue
            if suspect and _NUL_ESCAPE in line:
                field = nul_field(item)
                if field is not None:
                    yield number, Reject(number, field, NUL_REASON)
                    continue
            yield number, item


# --- CSV -------------------------------------------------------------------------------------

_LIST_SPLIT = re.compile(r"[;|,]\s*")


def _text_lines(chunks: Iterable[bytes], bad: list[int]) -> Iterator[str]:
    for number, line in lines(chunks):
        if line is None:
            bad.append(number)
            yield "\n"
            continue
        try:
            yield line.decode("utf-8-sig" if number == 1 else "utf-8") + "\n"
        except UnicodeDecodeError:
            bad.append(number)
            yield "\n"


def csv_rows(chunks: Iterable[bytes]) -> Iterator[tuple[int, list[str] | Reject]]:
    """Rows of a CSV stream with the physical line each ends on; unreadable lines as rejects."""
    bad: list[int] = []
    reader = csv.reader(_text_lines(chunks, bad), strict=True)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, Reject(reader.line_num, None, f"malformed CSV: {exc}")
            continue
        if bad and bad[-1] == reader.line_num:
            yield reader.line_num, Reject(reader.line_num, None, "line is not UTF-8 or is too long")
            bad.clear()
            continue
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        yield reader.line_num, row


def _convert(number: int, record: dict[str, Any]) -> Item:
    try:
        return number, msgspec.convert(record, ReportIn, strict=False)
    except msgspec.ValidationError as exc:
        return number, reject_from_msgspec(number, exc)


def csv_reports(chunks: Iterable[bytes]) -> Iterator[Item]:
    """CSV with a header row of the NDJSON field names. An unknown or missing column makes
    the whole file unreadable (it would reject every line), so that is a 400 naming it."""
    rows = csv_rows(chunks)
    header: list[str] | None = None
    for number, row in rows:
        if isinstance(row, Reject):
            if header is None:
                raise ReadProblem(400, "Unreadable CSV", "the header row cannot be read", [row.as_dict()])
            yield number, row
            continue
        if header is None:
            header = [name.strip() for name in row]
            unknown = [name for name in header if name not in FIELDS]
            missing = [name for name in REQUIRED_FIELDS if name not in header]
            if unknown or missing:
                errors = [{"line": number, "field": n, "reason": "unknown field"} for n in unknown]
                errors += [{"line": number, "field": n, "reason": "required column missing"} for n in missing]
                raise ReadProblem(400, "Unusable CSV header", "the header names unknown or lacks required fields", errors)
            continue
        if (problem := row_problem(number, header, row)) is not None:
            yield number, problem
            continue
        record: dict[str, Any] = {}
        for name, value in zip(header, row, strict=True):
            if value == "":
                continue
            if name == "callback_numbers":
                record[name] = [v for v in _LIST_SPLIT.split(value) if v]
            else:
                record[name] = value
        yield _convert(number, record)


# --- FTC Do Not Call reported calls ----------------------------------------------------------

FTC_DNC_HEADER = [
    "Company_Phone_Number",
    "Created_Date",
    "Violation_Date",
    "Consumer_City",
    "Consumer_State",
    "Consumer_Area_Code",
    "Subject",
    "Recorded_Message_Or_Robocall",
]


def ftc_dnc(chunks: Iterable[bytes]) -> Iterator[Item]:
    """The FTC's daily DNC_Complaint_Numbers_YYYY-MM-DD.csv, header exactly as published.
    The file has no record id, so the id is a hash of the line plus its occurrence count:
    re-importing the same file is a no-op, and two identical complaints stay two."""
    rows = csv_rows(chunks)
    seen: dict[bytes, int] = {}
    header_checked = False
    for number, row in rows:
        if isinstance(row, Reject):
            if not header_checked:
                raise ReadProblem(400, "Unreadable CSV", "the header row cannot be read", [row.as_dict()])
            yield number, row
            continue
        if not header_checked:
            got = [name.strip() for name in row]
            if got != FTC_DNC_HEADER:
                raise ReadProblem(
                    400,
                    "Not an FTC DNC file",
                    "expected the header " + ",".join(FTC_DNC_HEADER) + " but found " + ",".join(got),
                )
            header_checked = True
            continue
        if (problem := row_problem(number, FTC_DNC_HEADER, row)) is not None:
            yield number, problem
            continue
        company, created, violation, city, state_name, area_code, subject, robocall = (v.strip() for v in row)
        state = phones.state_code(state_name)
        digest = hashlib.sha256("\x1f".join(row).encode()).digest()[:12]
        seen[digest] = seen.get(digest, 0) + 1
        when = violation or created
        record: dict[str, Any] = {
            "source_report_id": f"ftc-dnc:{digest.hex()}:{seen[digest]}",
            "report_type": "complaint",
            "call_started_at": when.replace(" ", "T", 1) if when else None,
            "calling_number": company,
            "subject": subject,
            "consumer_city": city,
            "consumer_state": state,
            "called_state": state or (phones.state_for(area_code + "2345678") if len(area_code) == 3 else ""),
            "is_robocall": robocall.upper() == "Y",
        }
        yield _convert(number, {k: v for k, v in record.items() if v not in ("", None)})


# --- FCC consumer complaints (Socrata 3xyp-aqkj, CSV or JSON, and the 2015 legacy CSV) -------

_FCC_ALIASES = {
    "ticket_id": "id",
    "date_of_issue": "issue_date",
    "time_of_issue": "issue_time",
    "form": "issue_type",
    "caller_id_number": "caller_id_number",
    "type_of_call_or_message": "type_of_call_or_messge",
    "phone_issues": "issue",
    "date_ticket_date_of_issue": "issue_date",
    "date_ticket_created": "ticket_created",
    "type_of_call_or_message_robocalls": "robocalls",
    "type_of_call_or_message_telemarketing": "telemarketing",
}
_TIME = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*([ap])?\.?\s*m?\.?\s*$", re.I)


def _fcc_key(name: str) -> str:
    key = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
    return _FCC_ALIASES.get(key, key)


def _fcc_when(date: str, time: str) -> str | None:
    date = date.strip()
    if not date:
        return None
    day = date[:10]
    if "/" in day:  # 03/05/2021
        m, d, y = (date.split(" ")[0].split("/") + ["", "", ""])[:3]
        day = f"{y.zfill(4)}-{m.zfill(2)}-{d.zfill(2)}"
    hh, mm, ss = "00", "00", "00"
    t = _TIME.match(time or "")
    if t:
        hour = int(t.group(1))
        if t.group(4):
            hour = hour % 12 + (12 if t.group(4).lower() == "p" else 0)
        hh, mm, ss = f"{hour:02d}", t.group(2) or "00", t.group(3) or "00"
    return f"{day}T{hh}:{mm}:{ss}"


def fcc_record(number: int, raw: dict[str, Any]) -> Item:
    rec = {_fcc_key(k): ("" if v is None else str(v).strip()) for k, v in raw.items()}
    if (key := nul_column(rec.keys(), list(rec.values()))) is not None:
        return number, Reject(number, key, NUL_REASON)
    form = rec.get("issue_type", "")
    if form and form.lower() not in ("phone", "unwanted calls"):
        return number, Reject(number, "issue_type", f"not a telephone complaint ({form})")
    ticket = rec.get("id", "")
    if not ticket:
        return number, Reject(number, "id", "missing ticket id")
    call_type = rec.get("type_of_call_or_messge", "")
    robocall_flag = rec.get("robocalls", "")
    caller = rec.get("caller_id_number", "")
    advertiser = rec.get("advertiser_business_phone_number", "")
    record: dict[str, Any] = {
        "source_report_id": f"fcc:{ticket}",
        "report_type": "complaint",
        "call_started_at": _fcc_when(rec.get("issue_date", "") or rec.get("date_created", "") or rec.get("ticket_created", ""), rec.get("issue_time", "")),
        "calling_number": caller or advertiser,
        "subject": rec.get("issue", ""),
        "category": call_type,
        "consumer_city": rec.get("city", ""),
        "consumer_state": phones.state_code(rec.get("state", "")),
        "called_state": phones.state_code(rec.get("state", "")),
        "is_robocall": ("prerecorded" in call_type.lower() or "robocall" in call_type.lower() or robocall_flag.upper() in ("Y", "YES", "X", "TRUE"))
        if (call_type or robocall_flag)
        else None,
    }
    if advertiser and caller and phones.normalise(advertiser) and phones.normalise(advertiser) != phones.normalise(caller):
        record["callback_numbers"] = [advertiser]
    return _convert(number, {k: v for k, v in record.items() if v not in ("", None)})


def fcc_complaints(chunks: Iterable[bytes]) -> Iterator[Item]:
    """FCC complaints as CSV (display or API column names), a JSON array, or NDJSON."""
    it = iter(chunks)
    first = b""
    for chunk in it:
        first = chunk
        if chunk.strip():
            break
    head = first.lstrip()[:1]

    def replay() -> Iterator[bytes]:
        yield first
        yield from it

    if head == b"[":
        # Socrata's JSON export is one array; it is read whole (exports are split by date
        # range long before this matters), then converted record by record.
        data = orjson.loads(b"".join(replay()))
        for number, raw in enumerate(data, start=1):
            if not isinstance(raw, dict):
                yield number, Reject(number, None, "array element is not an object")
                continue
            yield fcc_record(number, raw)
        return
    if head == b"{":
        for number, line in lines(replay()):
            if line is None:
                yield number, _too_long(number)
                continue
            if not line.strip():
                continue
            try:
                raw = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                yield number, Reject(number, None, f"malformed JSON: {exc}")
                continue
            yield fcc_record(number, raw) if isinstance(raw, dict) else (number, Reject(number, None, "not an object"))
        return
    rows = csv_rows(replay())
    header: list[str] | None = None
    for number, row in rows:
        if isinstance(row, Reject):
            yield number, row
            continue
        if header is None:
            header = row
            keys = {_fcc_key(h) for h in header}
            if "id" not in keys or not ({"issue_date", "date_created", "ticket_created"} & keys):
                raise ReadProblem(400, "Not an FCC complaints export", "expected columns such as id / Ticket ID and issue_date / Date of Issue")
            continue
        if len(row) != len(header):
            yield number, Reject(number, None, f"malformed CSV: expected {len(header)} fields, found {len(row)}")
            continue
        yield fcc_record(number, dict(zip(header, row, strict=True)))


FORMATS: dict[str, Callable[[Iterable[bytes]], Iterator[Item]]] = {
    "ndjson": ndjson,
    "csv": csv_reports,
    "ftc-dnc": ftc_dnc,
    "fcc-complaints": fcc_complaints,
}

CONTENT_TYPES = {
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "application/json-seq": "ndjson",
    "text/csv": "csv",
}


def file_chunks(fh: BinaryIO, *, gzip: bool, cap: int) -> Iterator[bytes]:
    chunks = read_chunks(fh.read, chunk_size=1024 * 1024)
    return capped(gunzip(chunks), cap) if gzip else capped(chunks, cap)

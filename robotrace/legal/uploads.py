"""Checks on uploaded legal documents (ASVS 5.2/5.3): PDF by name and by content, size cap,
stored under a server-made name outside the web root."""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings
from django.utils import timezone
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from robotrace.core import antivirus
from robotrace.legal import conf


class UploadRejected(ValueError):
    """The file is not an acceptable PDF; the message says why, for the uploader."""


@dataclass(frozen=True)
class CheckedPdf:
    data: bytes
    sha256: str
    size: int
    pages: int
    original_name: str


_SAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def sanitise_name(name: str) -> str:
    """A display name that cannot traverse paths or break a Content-Disposition header."""
    name = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    name = name.replace("\\", "/").split("/")[-1]
    name = _SAFE.sub("_", name).strip(" .") or "document.pdf"
    return name[:120]


def check_pdf(fileobj: IO[bytes], name: str, *, max_bytes: int | None = None) -> CheckedPdf:
    limit = max_bytes if max_bytes is not None else conf.MAX_UPLOAD_BYTES
    clean = sanitise_name(name)
    if not clean.lower().endswith(".pdf"):
        raise UploadRejected(f"{clean}: only PDF files (.pdf) are accepted")
    # Read one byte past the cap so an oversized file is refused without reading it all.
    data = fileobj.read(limit + 1)
    if len(data) > limit:
        raise UploadRejected(f"{clean}: the file is larger than the {limit // (1024 * 1024) or 1} MB limit")
    if not data:
        raise UploadRejected(f"{clean}: the file is empty")
    # The PDF header must be at the very start: a reader that accepts junk before it is how
    # HTML/PDF polyglots get past browsers and scanners.
    if not data.startswith(b"%PDF-"):
        raise UploadRejected(f"{clean}: the content is not a PDF (it does not start with %PDF-)")
    head = data[:1024].lower()
    if b"<html" in head or b"<script" in head or b"<!doctype" in head:
        raise UploadRejected(f"{clean}: the file mixes PDF and HTML content and was refused")
    if b"%%EOF" not in data[-2048:]:
        raise UploadRejected(f"{clean}: the PDF is truncated (no end-of-file marker)")
    try:
        reader = PdfReader(io.BytesIO(data), strict=True)
        if reader.is_encrypted:
            raise UploadRejected(f"{clean}: encrypted PDFs cannot be reviewed; upload an unencrypted copy")
        pages = len(reader.pages)
        active = active_content(reader)
        if active:
            raise UploadRejected(
                f"{clean}: the PDF contains {active}, which staff reading it would run; "
                "print it to a new PDF (or export it without scripts and attachments) and upload that copy"
            )
    except UploadRejected:
        raise
    except Exception as exc:  # pypdf raises many types for broken files
        raise UploadRejected(f"{clean}: the PDF could not be read ({type(exc).__name__})") from exc
    if pages < 1:
        raise UploadRejected(f"{clean}: the PDF has no pages")
    try:
        antivirus.scan(data, name=clean)
    except (antivirus.Infected, antivirus.ScannerUnavailable) as exc:
        raise UploadRejected(str(exc)) from exc
    return CheckedPdf(data=data, sha256=hashlib.sha256(data).hexdigest(), size=len(data), pages=pages, original_name=clean)


# What a PDF reader runs or opens by itself: scripts, programs, files carried inside, forms
# that post data out. Checked on every object reachable from the document catalogue, so a
# name hidden in a compressed object stream or spelled with #-escapes (pypdf decodes both) is
# found too.
_ACTIVE_ACTIONS = {"/JavaScript": "JavaScript", "/Launch": "a Launch action (it starts a program)",
                   "/ImportData": "an ImportData action", "/SubmitForm": "a form that submits data",
                   "/RichMediaExecute": "a RichMedia action", "/GoToE": "an action that opens an embedded file"}  # fmt: skip
_ACTIVE_KEYS = {"/JS": "JavaScript", "/JavaScript": "JavaScript", "/EmbeddedFiles": "embedded files",
                "/EmbeddedFile": "an embedded file", "/RichMedia": "rich media (Flash or 3D content that runs code)",
                "/XFA": "an XFA form (forms that run scripts)"}  # fmt: skip


def active_content(reader: PdfReader, *, limit: int = 200_000) -> str:
    """What active content the document holds ("" if none), naming the first found."""
    seen: set[int] = set()
    stack: list[object] = [reader.trailer]
    visited = 0
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            if obj.idnum in seen:
                continue
            seen.add(obj.idnum)
            obj = obj.get_object()
        visited += 1
        if visited > limit:
            return "more objects than can be checked"
        if isinstance(obj, DictionaryObject):
            for key in obj:
                if key in _ACTIVE_KEYS:
                    return _ACTIVE_KEYS[key]
            kind = obj.get("/S")
            if kind in _ACTIVE_ACTIONS:
                return _ACTIVE_ACTIONS[kind]
            if obj.get("/Type") == "/EmbeddedFile" or obj.get("/Subtype") == "/FileAttachment":
                return "an embedded file"
            stack.extend(obj.values())
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    return ""


def legal_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "legal"
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_bytes(data: bytes, *, suffix: str, subdir: str = "documents") -> str:
    """Write under MEDIA_ROOT/legal/<subdir>/YYYY/MM/<random><suffix>; return the relative path."""
    now = timezone.now()
    rel = Path("legal") / subdir / f"{now:%Y}" / f"{now:%m}" / f"{secrets.token_hex(16)}{suffix}"
    full = Path(settings.MEDIA_ROOT) / rel
    full.parent.mkdir(parents=True, exist_ok=True)
    with open(full, "xb") as fh:
        fh.write(data)
    return rel.as_posix()


def full_path(rel: str) -> Path:
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / rel).resolve()
    if root not in path.parents:
        raise UploadRejected("stored path escapes the media root")
    return path

"""Legal documents with active content are refused with words a person can act on, and a
configured virus scanner is asked about every document (#20 finding 10)."""

from __future__ import annotations

import io
import socket
import struct
import threading
from typing import Any

import pytest
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import DictionaryObject, NameObject, TextStringObject
from reportlab.pdfgen import canvas

from robotrace.legal.uploads import UploadRejected, check_pdf


def plain_pdf() -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, "Subpoena duces tecum")
    c.showPage()
    c.save()
    return buf.getvalue()


def rewritten(change: Any) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(plain_pdf()))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_plain_pdf_is_accepted():
    assert check_pdf(io.BytesIO(plain_pdf()), "subpoena.pdf").pages == 1


def test_a_pdf_with_javascript_is_refused():
    data = rewritten(lambda w: w.add_open_action(JavaScript("app.alert('hi');")))
    with pytest.raises(UploadRejected, match="contains JavaScript, which staff reading it would run; print it to a new PDF"):
        check_pdf(io.BytesIO(data), "cid.pdf")


def test_a_pdf_with_an_embedded_file_is_refused():
    data = rewritten(lambda w: w.add_attachment("payload.exe", b"MZ..."))
    with pytest.raises(UploadRejected, match="embedded file"):
        check_pdf(io.BytesIO(data), "cid.pdf")


def test_a_pdf_with_a_launch_action_is_refused():
    def launch(w: PdfWriter) -> None:
        action = DictionaryObject({NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("cmd.exe")})
        w._root_object[NameObject("/OpenAction")] = w._add_object(action)

    with pytest.raises(UploadRejected, match="Launch action"):
        check_pdf(io.BytesIO(rewritten(launch)), "cid.pdf")


def hand_made_pdf(*objects: bytes) -> bytes:
    """A PDF from object bodies (object 1 is the catalogue), with a correct xref table."""
    out = b"%PDF-1.7\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def test_the_check_reads_names_as_the_reader_does_not_as_bytes():
    # "/J#61vaScript" is "/JavaScript" to a PDF reader; a byte search for the name misses it.
    data = hand_made_pdf(
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    )
    assert b"/JavaScript" not in data and b"/JS" not in data
    with pytest.raises(UploadRejected, match="JavaScript"):
        check_pdf(io.BytesIO(data), "cid.pdf")


def test_a_hand_made_pdf_without_actions_is_accepted():
    data = hand_made_pdf(
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    )
    assert check_pdf(io.BytesIO(data), "cid.pdf").pages == 1


class FakeClamd:
    """Speaks clamd's INSTREAM on a loopback port, answering FOUND when the stream holds `bad`."""

    def __init__(self, bad: bytes = b"EICAR"):
        self.bad = bad
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.scanned: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                f = conn.makefile("rb")
                assert f.read(10) == b"zINSTREAM\0"
                data = b""
                while True:
                    (n,) = struct.unpack("!L", f.read(4))
                    if not n:
                        break
                    data += f.read(n)
                self.scanned.append(data)
                conn.sendall(b"stream: Eicar-Test-Signature FOUND\0" if self.bad in data else b"stream: OK\0")


def test_a_configured_scanner_passes_a_clean_document(settings: Any) -> None:
    clamd = FakeClamd()
    settings.CLAMAV_ADDRESS = clamd.address
    data = plain_pdf()
    check_pdf(io.BytesIO(data), "subpoena.pdf")
    assert clamd.scanned == [data]


def test_a_configured_scanner_refuses_what_it_finds(settings: Any) -> None:
    clamd = FakeClamd(bad=b"%PDF-")
    settings.CLAMAV_ADDRESS = clamd.address
    with pytest.raises(UploadRejected, match="the virus scanner found Eicar-Test-Signature"):
        check_pdf(io.BytesIO(plain_pdf()), "subpoena.pdf")


def test_an_unreachable_scanner_refuses_the_upload(settings: Any) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    settings.CLAMAV_ADDRESS = f"127.0.0.1:{port}"
    with pytest.raises(UploadRejected, match="could not be reached"):
        check_pdf(io.BytesIO(plain_pdf()), "subpoena.pdf")

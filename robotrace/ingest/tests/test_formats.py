from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.core.management import CommandError, call_command

from robotrace.ingest.models import CallReport, Upload
from robotrace.ingest.tests.conftest import good, nd, post

CSV = (
    "source_report_id,report_type,call_started_at,calling_number,called_number,duration_seconds,transcript,callback_numbers,is_robocall\n"
    'c-1,honeypot,2026-11-20T10:00:00Z,2025550143,+1 919 332 4567,42,"Hello, this is about your loan, call 888-555-2834",844-921-0044,true\n'
    "c-2,app_report,2026-11-20T11:00:00+01:00,704 286 1234,9193324568,,,,\n"
    "c-3,app_report,not-a-date,704 286 1234,9193324568,,,,\n"
    "c-4,app_report,2026-11-20T11:00:00Z,704 286 1234\n"
)


def test_it_reads_csv_with_the_ndjson_field_names(world: Any, reporter_key: str) -> None:
    r = post(reporter_key, CSV.encode(), content_type="text/csv")
    body = r.json()
    assert (body["accepted"], body["rejected"]) == (2, 2), body
    assert [(x["line"], x["field"]) for x in body["rejects"]] == [(4, "call_started_at"), (5, None)]
    c1 = CallReport.objects.for_org(world.reporter_a).get(source_report_id="c-1")
    assert c1.duration_seconds == 42 and c1.is_robocall is True
    assert c1.callback_numbers == ["+18449210044", "+18885552834"]
    c2 = CallReport.objects.for_org(world.reporter_a).get(source_report_id="c-2")
    assert c2.call_started_at.isoformat() == "2026-11-20T10:00:00+00:00"
    assert c2.is_robocall is None


def test_it_refuses_a_csv_header_with_an_unknown_column(world: Any, reporter_key: str) -> None:
    r = post(reporter_key, b"source_report_id,report_type,call_started_at,colour\nx,honeypot,2026-11-20T10:00:00Z,red\n", content_type="text/csv")
    assert r.status_code == 400
    assert r.json()["errors"] == [{"line": 1, "field": "colour", "reason": "unknown field"}]
    assert Upload.objects.for_org(world.reporter_a).count() == 0


def test_it_reads_gzip_ndjson(world: Any, reporter_key: str) -> None:
    r = post(reporter_key, nd(*(good(i) for i in range(500))), gzip=True)
    assert r.json()["accepted"] == 500


def test_it_reads_gzip_csv(world: Any, reporter_key: str) -> None:
    r = post(reporter_key, CSV.encode(), content_type="text/csv", gzip=True)
    assert r.json()["accepted"] == 2


def test_it_reads_json_text_sequences(world: Any, reporter_key: str) -> None:
    body = b"".join(b"\x1e" + orjson.dumps(good(i)) + b"\n" for i in range(3))
    r = post(reporter_key, body, content_type="application/json-seq")
    assert r.json()["accepted"] == 3


def test_it_keeps_the_identity_header_and_decodes_its_claims(world: Any, reporter_key: str) -> None:
    import base64

    def b64(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(obj)).rstrip(b"=").decode()

    token = f"{b64({'alg': 'ES256', 'ppt': 'shaken'})}.{b64({'attest': 'C', 'origid': 'de305d54-75b4-431b-adb2-eb6b9e546014'})}.sig"
    header = f"{token};info=<https://cert.example/c.pem>;alg=ES256;ppt=shaken"
    post(reporter_key, nd(good(1, identity_header=header, upstream_provider="Northgate Networks (NG02)")))
    report = CallReport.objects.for_org(world.reporter_a).get()
    assert report.identity_header == header
    assert (report.shaken_attest, report.shaken_origid) == ("C", "de305d54-75b4-431b-adb2-eb6b9e546014")
    assert report.upstream_provider == "Northgate Networks (NG02)"


def test_it_extracts_spoken_callback_numbers(world: Any, reporter_key: str) -> None:
    text = "to speak with an agent call eight three three, three oh four, one four four seven"
    post(reporter_key, nd(good(1, transcript=text)))
    assert CallReport.objects.for_org(world.reporter_a).get().callback_numbers == ["+18333041447"]


FTC = (
    "Company_Phone_Number,Created_Date,Violation_Date,Consumer_City,Consumer_State,Consumer_Area_Code,Subject,Recorded_Message_Or_Robocall\n"
    "8333041447,2026-11-19 09:12:44,2026-11-19 08:55:00,Raleigh,North Carolina,919,Warranties & Protection Plans,Y\n"
    "2125550101,2026-11-19 10:00:00,2026-11-19 09:30:00,Columbus,OH,614,Imposters,N\n"
    "8333041447,2026-11-19 09:12:44,2026-11-19 08:55:00,Raleigh,North Carolina,919,Warranties & Protection Plans,Y\n"
    ",2026-11-19 10:00:00,2026-02-30 09:30:00,Columbus,OH,614,Imposters,N\n"
)


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return str(path)


def test_it_imports_the_ftc_dnc_file_as_published(world: Any, tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("ingest", write(tmp_path, "DNC_Complaint_Numbers_2026-11-19.csv", FTC), reporter="reporter-a", fmt="ftc-dnc", no_progress=True, stdout=out)
    assert "3 accepted" in out.getvalue() and "1 rejected" in out.getvalue()
    rows = list(CallReport.objects.for_org(world.reporter_a).order_by("source_report_id"))
    assert len(rows) == 3  # two identical complaints stay two
    warranty = [r for r in rows if r.calling_number == "8333041447"][0]
    assert warranty.report_type == "complaint" and warranty.is_robocall is True
    assert warranty.consumer_city == "Raleigh" and warranty.called_state == "NC"
    assert warranty.call_started_at.isoformat() == "2026-11-19T13:55:00+00:00"  # Eastern time
    fiction = [r for r in rows if r.calling_number == "2125550101"][0]
    assert fiction.is_calling_number_invalid is True


def test_it_imports_the_same_ftc_file_twice_without_duplicating(world: Any, tmp_path: Path) -> None:
    path = write(tmp_path, "dnc.csv", FTC)
    call_command("ingest", path, reporter="reporter-a", fmt="ftc-dnc", no_progress=True, stdout=io.StringIO())
    out = io.StringIO()
    call_command("ingest", path, reporter="reporter-a", fmt="ftc-dnc", no_progress=True, stdout=out)
    assert "0 accepted, 3 duplicates" in out.getvalue()
    assert CallReport.objects.for_org(world.reporter_a).count() == 3


def test_it_refuses_a_file_without_the_ftc_header(world: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Not an FTC DNC file"):
        call_command("ingest", write(tmp_path, "x.csv", "a,b\n1,2\n"), reporter="reporter-a", fmt="ftc-dnc", no_progress=True)


FCC_CSV = (
    "Ticket ID,Ticket Created,Date of Issue,Time of Issue,Form,Method,Issue,Caller ID Number,Type of Call or Messge,Advertiser Business Phone Number,City,State,Zip,Location (Center point of the Zip Code)\n"
    "4512345,11/19/2026 10:01:00 AM,11/19/2026,9:15 a.m.,Phone,Wireless (cell phone/other mobile device),Unwanted Calls,704-286-1234,Prerecorded Voice,833-304-1447,Charlotte,NC,28202,\n"
    "4512346,11/19/2026 10:05:00 AM,11/19/2026,,Internet,,Speed,,,,Dayton,OH,45402,\n"
)


def test_it_imports_fcc_complaints_csv(world: Any, tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("ingest", write(tmp_path, "fcc.csv", FCC_CSV), reporter="reporter-a", fmt="fcc-complaints", no_progress=True, stdout=out)
    report = CallReport.objects.for_org(world.reporter_a).get()
    assert report.source_report_id == "fcc:4512345"
    assert report.calling_number_e164 == "+17042861234"
    assert report.callback_numbers == ["+18333041447"]
    assert report.is_robocall is True and report.category == "Prerecorded Voice"
    assert report.call_started_at.isoformat() == "2026-11-19T14:15:00+00:00"
    assert "not a telephone complaint" in out.getvalue()


def test_it_imports_fcc_complaints_json_with_api_field_names(world: Any, tmp_path: Path) -> None:
    data = [{
        "id": "99", "ticket_created": "2026-11-18T12:00:00.000", "issue_date": "2026-11-18T00:00:00.000", "issue_time": "2:30 p.m.",
        "issue_type": "Phone", "issue": "Unwanted Calls", "caller_id_number": "614-555-0188", "type_of_call_or_messge": "Live Voice",
        "advertiser_business_phone_number": "None", "city": "Columbus", "state": "OH", "zip": "43215",
    }]  # fmt: skip
    call_command("ingest", write(tmp_path, "fcc.json.gz", gzip.compress(orjson.dumps(data))), reporter="reporter-a", fmt="fcc-complaints", no_progress=True, stdout=io.StringIO())
    report = CallReport.objects.for_org(world.reporter_a).get()
    assert report.is_calling_number_invalid is True  # 555-01XX
    assert report.is_robocall is False and report.consumer_state == "OH"


def test_it_imports_ndjson_and_csv_files(world: Any, tmp_path: Path) -> None:
    call_command("ingest", write(tmp_path, "a.ndjson.gz", gzip.compress(nd(good(1), good(2)))), reporter="reporter-a", fmt="ndjson", no_progress=True, stdout=io.StringIO())
    call_command("ingest", write(tmp_path, "b.csv", CSV), reporter="reporter-a", fmt="csv", no_progress=True, stdout=io.StringIO())
    assert CallReport.objects.for_org(world.reporter_a).count() == 4
    assert Upload.objects.for_org(world.reporter_a).filter(source="file").count() == 2


def test_it_commits_large_files_batch_by_batch(world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from robotrace.ingest import conf

    monkeypatch.setattr(conf, "BATCH_SIZE", 7)
    out = io.StringIO()
    call_command("ingest", write(tmp_path, "big.ndjson", nd(*(good(i) for i in range(50)))), reporter="reporter-a", fmt="ndjson", no_progress=True, stdout=out)
    assert "50 accepted" in out.getvalue() and "8 batch(es)" in out.getvalue()


def test_it_refuses_to_import_for_a_non_reporter(world: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="not a reporter"):
        call_command("ingest", write(tmp_path, "a.ndjson", nd(good(1))), reporter="provider-a", fmt="ndjson", no_progress=True)


def test_a_nul_character_in_any_csv_format_is_a_reject_naming_the_column(world: Any, reporter_key: str) -> None:
    """Python's csv module passes NUL through, and PostgreSQL text cannot store it: a NUL in a
    CSV upload failed the whole request with a server error."""
    from robotrace.ingest import parsers

    def rejects(fmt: str, text: str) -> list[tuple[int, str | None]]:
        items = parsers.FORMATS[fmt]([text.encode()])
        return [(item.line, item.field) for _, item in items if isinstance(item, parsers.Reject)]

    csv_nul = CSV.splitlines()[0] + "\n" + "c-9,honeypot,2026-11-20T10:00:00Z,2025550143,9193324568,,bad \x00 here,,\n"
    assert rejects("csv", csv_nul) == [(2, "transcript")]
    ftc_lines = FTC.splitlines()
    assert rejects("ftc-dnc", "\n".join([ftc_lines[0], ftc_lines[1].replace("Raleigh", "Ral\x00eigh")]) + "\n") == [(2, "Consumer_City")]
    fcc_lines = FCC_CSV.splitlines()
    assert rejects("fcc-complaints", "\n".join([fcc_lines[0], fcc_lines[1].replace("Charlotte", "Char\x00lotte")]) + "\n") == [(2, "city")]

    r = post(reporter_key, (CSV + csv_nul.splitlines()[1] + "\n").encode(), content_type="text/csv")
    assert r.status_code == 202
    body = r.json()
    assert (body["accepted"], body["rejected"]) == (2, 3)
    assert (6, "transcript") in [(x["line"], x["field"]) for x in body["rejects"]]

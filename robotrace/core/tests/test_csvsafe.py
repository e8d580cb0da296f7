"""CSV cells that a spreadsheet would run as formulas are neutralised; numbers are not (#20)."""

from __future__ import annotations

import csv
import io

import pytest

from robotrace.core import csvsafe


@pytest.mark.parametrize("hostile", ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\t=1+1", "\r=1", "|calc", "%0A=1"])
def test_it_neutralises_formula_text(hostile):
    assert csvsafe.cell(hostile) == "'" + hostile


@pytest.mark.parametrize("plain", ["+15551234567", "-12", "-1,234.50", "12", "ACME Telecom", "", "a=b"])
def test_it_leaves_numbers_and_plain_text(plain):
    assert csvsafe.cell(plain) == plain


def test_the_writer_neutralises_every_cell():
    buf = io.StringIO()
    w = csvsafe.writer(buf, lineterminator="\n")
    w.writerow(["=1+1", 5, None, "+15551234567"])
    w.writerows([["@x"]])
    assert list(csv.reader(io.StringIO(buf.getvalue()))) == [["'=1+1", "5", "", "+15551234567"], ["'@x"]]


def test_production_csv_files_neutralise_hostile_caller_names():
    from robotrace.legal.packaging import csv_bytes

    data = csv_bytes(["caller_name", "calling_number"], [['=HYPERLINK("http://evil","click")', "+15551234567"]]).decode()
    assert list(csv.reader(io.StringIO(data)))[1] == ["'=HYPERLINK(\"http://evil\",\"click\")", "+15551234567"]

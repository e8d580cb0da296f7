from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

WARRANTY = "We have been trying to reach you about your car's extended warranty. This is your final courtesy call before we close your file. Press 1 to speak to a warranty specialist."
SSA = "This call is from the Social Security Administration. Your social security number has been suspended because of suspicious activity. Press 1 to speak with an officer now."


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_it_clusters_a_tiny_csv_with_the_platform_engine(tmp_path):
    src = _write(tmp_path / "in.csv", ["report_id", "transcript", "language", "calling_number"], [
        ["r1", WARRANTY, "en", "+12025550101"],
        ["r2", WARRANTY.replace("car's", "cars").replace("final", "finale"), "en", ""],
        ["r3", SSA, "en", ""],
        ["r4", " ".join(SSA.split()[5:22]), "en", ""],
    ])
    out = tmp_path / "out.csv"
    call_command("campaigns", "cluster", str(src), "--output", str(out))
    rows = list(csv.DictReader(out.open()))
    assert [r["report_id"] for r in rows] == ["r1", "r2", "r3", "r4"]
    ids = [r["campaign_id"] for r in rows]
    assert ids[0] == ids[1] != ids[2] == ids[3]
    assert [r["category"] for r in rows] == ["auto_warranty", "auto_warranty", "ssa_impersonation", "ssa_impersonation"]


@pytest.mark.parametrize(("header", "rows", "message"), [
    (["id", "transcript"], [["1", "x"]], "line 1: missing column(s) report_id"),
    (["report_id", "transcript"], [["a", "x"], ["", "y"]], "line 3: field report_id is empty"),
    (["report_id", "transcript"], [["a", "x"], ["a", "y"]], "line 3: field report_id 'a' repeats line 2"),
    (["report_id", "transcript", "call_started_at"], [["a", "x", "yesterday"]], "line 2: field call_started_at"),
])
def test_it_names_the_line_and_field_of_bad_input_and_writes_nothing(tmp_path, header, rows, message):
    src = _write(tmp_path / "in.csv", header, rows)
    out = tmp_path / "out.csv"
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("campaigns", "cluster", str(src), "--output", str(out))
    assert not out.exists()


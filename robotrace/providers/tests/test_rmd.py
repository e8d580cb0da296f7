from __future__ import annotations

from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from robotrace.audit.models import AuditEvent
from robotrace.providers.models import Provider, RmdImport, RmdSnapshot
from robotrace.providers.rmd import import_rmd
from robotrace.providers.tests import factories as f

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def registry(db):
    return {
        "keystone": f.provider("Keystone Voice", frn="0012345678"),
        # no FRN in the registry: matched by normalised name ("Northgate Networks, Inc.")
        "northgate": f.provider("NORTHGATE NETWORKS"),
        "absent": f.provider("Never Filed Telecom"),
    }


def run(path: str, seen_on: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("providers", "import-rmd", str(FIXTURES / path), "--seen-on", seen_on, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_matches_by_frn_then_by_name_and_marks_the_rest_not_listed(registry):
    out, err = run("rmd-2026-03.csv", "2026-03-01")
    k, n, a = (Provider.objects.get(pk=registry[x].pk) for x in ("keystone", "northgate", "absent"))
    assert k.rmd_status == n.rmd_status == "listed"
    assert a.rmd_status == "not_listed"
    assert k.rmd_first_seen_at == date(2026, 3, 1)
    assert k.rmd_implementation == "Complete STIR/SHAKEN Implementation"
    assert k.rmd_provider_types == ["voice", "intermediate"]
    # the FRN lost its leading zeros in a spreadsheet; it is padded back and stored
    assert n.frn == "0012345679"
    snap = RmdSnapshot.objects.get(provider=n)
    assert snap.matched_by == "name" and snap.line == 3
    assert RmdSnapshot.objects.get(provider=k).matched_by == "frn"
    assert "2 listed (1 by FRN, 1 by name), 1 not listed, 0 removed; 1 RMD rows match no registry provider" in out


def test_it_reports_unknown_columns_and_bad_lines_by_number(registry):
    _, err = run("rmd-2026-03.csv", "2026-03-01")
    assert "unknown column ignored: 'Internal Note'" in err
    assert "line 5: frn: FRN 'ABC123' is not a number" in err
    assert "line 6: row: 2 values for 11 columns" in err
    imp = RmdImport.objects.get()
    assert imp.unknown_columns == ["Internal Note"] and [b["line"] for b in imp.bad_lines] == [5, 6]


def test_it_marks_a_provider_missing_from_a_later_export_as_removed_with_the_date(registry):
    run("rmd-2026-03.csv", "2026-03-01")
    out, _ = run("rmd-2026-04.csv", "2026-04-01")
    n = Provider.objects.get(pk=registry["northgate"].pk)
    assert n.rmd_status == "removed" and n.rmd_removed_at == date(2026, 4, 1)
    assert n.rmd_last_seen_at == date(2026, 3, 1)
    assert Provider.objects.get(pk=registry["absent"].pk).rmd_status == "not_listed"
    assert Provider.objects.get(pk=registry["keystone"].pk).rmd_status == "listed"
    assert "1 removed" in out
    # a third export without it keeps the original removal date
    run("rmd-2026-04.csv", "2026-05-01")
    n.refresh_from_db()
    assert n.rmd_status == "removed" and n.rmd_removed_at == date(2026, 4, 1)
    assert AuditEvent.objects.filter(action="provider.rmd_imported").count() == 3


def test_it_lists_a_removed_provider_again_when_it_reappears(registry):
    run("rmd-2026-03.csv", "2026-03-01")
    run("rmd-2026-04.csv", "2026-04-01")
    run("rmd-2026-03.csv", "2026-05-01")
    n = Provider.objects.get(pk=registry["northgate"].pk)
    assert n.rmd_status == "listed" and n.rmd_removed_at is None


def test_it_refuses_a_file_without_frn_or_name_column_and_writes_nothing(registry):
    with pytest.raises(ValidationError, match="line 1"):
        import_rmd(actor=None, text="company,phone\nAcme,123\n", file_name="x.csv", seen_on=date(2026, 3, 1))
    assert not RmdImport.objects.exists()
    assert Provider.objects.get(pk=registry["keystone"].pk).rmd_status == "unknown"


def test_it_refuses_an_export_older_than_the_last_one(registry):
    run("rmd-2026-04.csv", "2026-04-01")
    with pytest.raises(CommandError, match="older"):
        run("rmd-2026-03.csv", "2026-03-01")


def test_it_refuses_a_bad_date_and_a_missing_file(registry):
    with pytest.raises(CommandError, match="not a date"):
        run("rmd-2026-03.csv", "March")
    with pytest.raises(CommandError, match="no such file"):
        call_command("providers", "import-rmd", "/nonexistent.csv")


def test_it_refuses_staff_of_other_kinds(world):
    with pytest.raises(Exception, match="consortium"):
        import_rmd(actor=world.pat, text="frn\n0012345678\n", file_name="x.csv", seen_on=date(2026, 3, 1))

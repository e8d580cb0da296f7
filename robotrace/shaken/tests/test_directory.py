"""The OCN-to-provider table: import, lookup, all-or-nothing on bad lines."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from robotrace.audit.models import AuditEvent
from robotrace.shaken import services
from robotrace.shaken.directory import DirectoryError
from robotrace.shaken.models import SpcDirectory
from robotrace.shaken.tests.helpers import provider

CSV = (
    'OCN,Org Name,CN,Cert\n'
    '"005K","Primevox Communications, LLC","SHAKEN 005K","https://a.example/1.cer"\n'
    '"554a","Socket Telecom LLC","SHAKEN 554A","https://a.example/2.cer"\n'
    '"554a","Socket Telecom, LLC","SHAKEN 554A","https://a.example/3.cer"\n'
    '"Unknown","Nobody","x","y"\n'
)


def test_it_imports_the_table_and_links_registry_providers(db):
    p = provider("Primevox Communications, LLC")
    result = services.import_ocn_directory(actor=None, text=CSV, source="OCN.csv")
    assert (result.created, result.linked) == (2, 1)
    socket = SpcDirectory.objects.get(spc="554A")
    assert socket.spc_as_listed == "554a" and socket.org_names == ["Socket Telecom LLC", "Socket Telecom, LLC"]
    assert SpcDirectory.objects.get(spc="005K").provider_id == p.id
    assert AuditEvent.objects.filter(action="shaken.directory_imported").exists()
    again = services.import_ocn_directory(actor=None, text=CSV)
    assert (again.created, again.updated) == (0, 2)


def test_it_names_the_line_and_field_of_a_bad_row_and_writes_nothing(db):
    bad = CSV + '"","Empty OCN","",""\n'
    with pytest.raises(DirectoryError, match="line 6: field OCN"):
        services.import_ocn_directory(actor=None, text=bad)
    assert SpcDirectory.objects.count() == 0
    with pytest.raises(DirectoryError, match="line 1"):
        services.import_ocn_directory(actor=None, text="a,b\n1,2\n")


def test_its_command_imports_a_file_and_refuses_a_bad_one(db, tmp_path, capsys):
    good = tmp_path / "ocn.csv"
    good.write_text(CSV)
    call_command("shaken", "import-ocn", str(good))
    assert "2 created" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text('OCN,Org Name\n"!!","X"\n')
    with pytest.raises(CommandError, match="line 2"):
        call_command("shaken", "import-ocn", str(bad))


def test_it_looks_up_every_real_leaf_spc_in_the_shared_table(db, shared_vectors):
    import csv

    from robotrace.shaken.conformance import CertReport, report_lookup

    rows = list(csv.DictReader((shared_vectors / "certs" / "expected.csv").open()))
    rep = CertReport()
    report_lookup(shared_vectors, rows, rep)
    assert rep.lookup.total == 16 and rep.lookup.hit == 16

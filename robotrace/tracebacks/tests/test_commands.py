from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from robotrace.tracebacks.models import Hop, NumberBlock
from robotrace.tracebacks.tests.factories import make_net, open_tb


def test_it_imports_number_blocks_and_names_a_bad_line(world, tmp_path) -> None:
    net = make_net(world)
    good = tmp_path / "blocks.csv"
    good.write_text(f"npa_nxx,provider\n312555,{net.transit.id}\n1-704-555,OT99\n")
    out = io.StringIO()
    call_command("tracebacks", "import-number-blocks", str(good), stdout=out)
    assert '"created": 2' in out.getvalue()
    assert NumberBlock.objects.get(prefix="704555").provider == net.origin
    bad = tmp_path / "bad.csv"
    bad.write_text("prefix,provider\n415555,OT99\n41,OT99\n")
    with pytest.raises(CommandError, match="line 3: prefix '41'"):
        call_command("tracebacks", "import-number-blocks", str(bad))
    assert not NumberBlock.objects.filter(prefix="415555").exists()  # all or nothing
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("prefix,provider\n415555,Nobody Telecom\n")
    with pytest.raises(CommandError, match="line 2: provider 'Nobody Telecom'"):
        call_command("tracebacks", "import-number-blocks", str(unknown))


def test_it_sweeps_from_the_command_line(world) -> None:
    make_net(world)
    hop = open_tb(world).hops.get()
    later = (timezone.now() + timedelta(hours=30)).isoformat()
    call_command("tracebacks", "sweep", "--now", later, stdout=io.StringIO())
    hop.refresh_from_db()
    assert hop.status == Hop.Status.OVERDUE

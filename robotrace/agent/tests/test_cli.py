from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from robotrace.agent.cli import main
from robotrace.tracebacks.tests.factories import make_net, open_tb


def test_it_runs_the_provider_agent_once_against_csv_records(world, tmp_path, live_server, api_key, capsys) -> None:
    net = make_net(world)
    at = timezone.now().replace(microsecond=0) - timedelta(minutes=10)
    from robotrace.tracebacks.tests.factories import sample

    tb = open_tb(world, sample=sample(at))
    records = tmp_path / "cdr.csv"
    records.write_text(f"time,from,to,trunk,upstream_provider_id\n{at.isoformat()},202.555.0111,919-555-0223,TG1,{net.transit.id}\n")
    assert main(["--url", live_server.url, "--key", api_key(world.provider_a, ["traceback:respond"]), "--records", str(records), "--once"]) == 0
    assert "answered 1 of 1" in capsys.readouterr().out
    assert tb.hops.get(sequence=1).upstream_provider == net.transit


def test_it_is_the_robotrace_provider_agent_command(monkeypatch, capsys) -> None:
    import pytest

    from robotrace import cli

    monkeypatch.setattr("sys.argv", ["robotrace", "provider-agent", "--help"])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 0
    assert "usage: robotrace provider-agent" in capsys.readouterr().out

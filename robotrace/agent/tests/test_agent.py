from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from typing import Any

from django.utils import timezone

from robotrace.agent.client import Agent
from robotrace.agent.records import load_records
from robotrace.conftest import bearer
from robotrace.tracebacks.models import Traceback
from robotrace.tracebacks.tests.factories import make_net, open_tb, sample


class ClientApi:
    """The agent's API client over Django's test client instead of HTTP."""

    def __init__(self, client: Any, key: str):
        self.client, self.key = client, key

    def open_hops(self) -> list[dict[str, Any]]:
        return self.client.get("/api/v1/hops", **bearer(self.key)).json()["items"]

    def answer(self, hop_id: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        r = self.client.post(f"/api/v1/hops/{hop_id}/response", data=json.dumps(body), content_type="application/json",
                             HTTP_IDEMPOTENCY_KEY=f"agent-{hop_id}", **bearer(self.key))
        return r.status_code, r.json()


def test_it_finds_the_call_in_csv_records_despite_skew_and_number_formats(client, world, api_key, tmp_path) -> None:
    net = make_net(world)
    at = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    tb = open_tb(world, sample=sample(at))
    # The provider's switch clock runs 3 minutes fast and writes numbers its own way.
    skewed = (at + timedelta(minutes=3)).strftime("%Y-%m-%d %H:%M:%S")
    other = (at - timedelta(minutes=40)).isoformat()
    path = tmp_path / "cdr.csv"
    path.write_text(
        "started_at,ani,dnis,ingress_trunk,upstream_provider\n"
        f"{other},(202) 555-0111,919.555.0223,TG9,Wrong Carrier\n"
        f"{skewed},1-202-555-0111,(919) 555-0223,TG12,Bravo Transit\n"
    )
    agent = Agent(ClientApi(client, api_key(world.provider_a, ["traceback:respond"])), lambda: load_records(str(path)))  # type: ignore[arg-type]  # ApiClient's stand-in
    assert agent.poll_once() == 1
    hop = tb.hops.get(sequence=1)
    assert hop.response == "upstream" and hop.upstream_provider == net.transit
    assert "TG12" in hop.notes


def test_it_answers_originated_with_the_customer_from_sqlite_records(client, world, api_key, tmp_path) -> None:
    make_net(world)
    at = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    tb = open_tb(world, sample=sample(at))
    db = tmp_path / "calls.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE cdr (time TEXT, calling_number TEXT, called_number TEXT, customer TEXT, customer_account TEXT)")
    conn.execute("INSERT INTO cdr VALUES (?,?,?,?,?)", ((at - timedelta(seconds=90)).isoformat(), "12025550111", "9195550223", "Blast Dialer LLC", "ACCT-7"))
    conn.commit()
    conn.close()
    agent = Agent(ClientApi(client, api_key(world.provider_a, ["traceback:respond"])), lambda: load_records(f"sqlite:///{db}?table=cdr"))  # type: ignore[arg-type]  # ApiClient's stand-in
    agent.poll_once()
    tb.refresh_from_db()
    assert tb.outcome == Traceback.Outcome.ORIGIN_AND_CUSTOMER
    assert tb.originating_customer == {"name": "Blast Dialer LLC", "account_id": "ACCT-7"}


def test_it_answers_no_record_outside_the_skew_window(client, world, api_key, tmp_path) -> None:
    make_net(world)
    at = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    tb = open_tb(world, sample=sample(at))
    path = tmp_path / "cdr.csv"
    path.write_text(f"time,from,to,customer\n{(at + timedelta(minutes=20)).isoformat()},2025550111,9195550223,Someone\n")
    agent = Agent(ClientApi(client, api_key(world.provider_a, ["traceback:respond"])), lambda: load_records(str(path)))  # type: ignore[arg-type]  # ApiClient's stand-in
    agent.poll_once()
    hop = tb.hops.get()
    assert hop.response == "no_record" and "±5 min" in hop.no_record_reason


def test_it_names_a_foreign_upstream_from_the_trunk_mapping(world, tmp_path) -> None:
    at = timezone.now().replace(microsecond=0)
    path = tmp_path / "cdr.csv"
    path.write_text(f"time,from,to,trunk,upstream_provider,upstream_country\n{at.isoformat()},+442071234567,+19195550123,INTL-3,Faraway Carrier,GB\n")
    records = load_records(str(path))
    hop = {"id": 1, "call": {"started_at": at.isoformat(), "calling_number": "+442071234567", "called_number": "+19195550123"}}
    assert records.answer_for(hop)["response"] == "foreign_upstream"


def test_it_reads_call_records_from_a_postgresql_table() -> None:
    import os

    import pytest

    psycopg = pytest.importorskip("psycopg")
    dsn = "postgresql://postgres@127.0.0.1:5432/postgres"
    try:
        conn = psycopg.connect(dsn, autocommit=True, connect_timeout=2)
    except psycopg.OperationalError:
        pytest.skip("PostgreSQL is not running")
    table = f"rt_agent_cdr_{os.getpid()}"
    at = timezone.now().replace(microsecond=0)
    try:
        conn.execute(f'CREATE TABLE "{table}" (started_at timestamptz, ani text, dnis text, ingress_trunk text, upstream_provider text)')
        conn.execute(f'INSERT INTO "{table}" VALUES (%s, %s, %s, %s, %s)', (at + timedelta(seconds=40), "+1 202 555 0111", "9195550123", "TG7", "Bravo Transit"))
        records = load_records(f"{dsn}?table={table}")
        hop = {"id": 1, "call": {"started_at": at.isoformat(), "calling_number": "+12025550111", "called_number": "+19195550123"}}
        body = records.answer_for(hop)
        assert body["response"] == "upstream" and body["upstream"] == "Bravo Transit"
    finally:
        conn.execute(f'DROP TABLE IF EXISTS "{table}"')
        conn.close()

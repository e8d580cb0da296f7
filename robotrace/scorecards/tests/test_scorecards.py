from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from robotrace.providers.tests import factories as f
from robotrace.scorecards.models import Period, ProviderScorecard
from robotrace.scorecards.scorecards import compute_all

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
JAN = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
FEB = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)
MAY = datetime(2026, 5, 5, 9, 0, tzinfo=UTC)


def card(provider, period, key) -> ProviderScorecard:
    return ProviderScorecard.objects.unscoped(reason="test").get(provider=provider, period=period, period_key=key)


@pytest.fixture
def built(db):
    world = make_world()
    compute_all(now=NOW)
    return world


def make_world() -> dict:
    acme = f.provider("Acme Voice")
    gw = f.provider("Gateway Co")
    foreign = f.provider("Overseas Telecom", country="GB")
    other = f.provider("Quiet Carrier")
    confirmed = f.campaign("Car warranty", status="confirmed")
    suspected = f.campaign("Maybe spam", status="suspected")
    # January: 4 notices to acme: on time (1 h), on time (3 h), late (30 h), never.
    tb1 = f.traceback(at=JAN, campaign=confirmed, originating_provider=acme)
    f.hop(tb1, acme, received_at=JAN, answer_after=timedelta(hours=1), response="originated", customer_action="warned")
    tb2 = f.traceback(at=JAN, campaign=suspected, originating_provider=acme)  # not illegal: suspected, no legal basis
    f.hop(tb2, acme, received_at=JAN, answer_after=timedelta(hours=3), response="no_record")
    tb3 = f.traceback(at=JAN, campaign=None, legal_basis=["tcpa_227_b"], originating_provider=acme)  # illegal by legal basis
    f.hop(tb3, acme, received_at=JAN, answer_after=timedelta(hours=30), response="originated", customer_action="terminated")
    tb4 = f.traceback(at=JAN, non_responsive_provider=acme)
    f.hop(tb4, acme, received_at=JAN, status="non_responsive")
    # February: one on-time answer (5 h) and one cancelled hop, which is no notice at all.
    tb5 = f.traceback(at=FEB, campaign=confirmed, point_of_entry_provider=gw, originating_provider=foreign, outcome="foreign_origin")
    f.hop(tb5, acme, received_at=FEB, answer_after=timedelta(hours=5), response="upstream")
    f.hop(tb5, gw, received_at=FEB, answer_after=timedelta(hours=2), response="foreign_upstream", sequence=2)
    f.hop(f.traceback(at=FEB), acme, received_at=FEB, status="cancelled")
    # May: one notice still open (due tomorrow relative to NOW? no: received just before NOW).
    tb6 = f.traceback(at=NOW - timedelta(hours=2))
    f.hop(tb6, acme, received_at=NOW - timedelta(hours=2))
    f.hop(f.traceback(at=MAY, campaign=confirmed), gw, received_at=MAY, answer_after=timedelta(hours=6))
    return {"acme": acme, "gw": gw, "foreign": foreign, "other": other, "confirmed": confirmed, "suspected": suspected}


def test_it_counts_notices_and_answers_by_month(built):
    jan = card(built["acme"], Period.MONTH, "2026-01")
    assert (jan.notices, jan.answered, jan.answered_on_time, jan.answered_late, jan.never_answered) == (4, 3, 2, 1, 1)
    assert jan.no_record == 1 and jan.no_record_share == pytest.approx(33.3)
    assert jan.median_answer_seconds == pytest.approx(3 * 3600, abs=1)
    assert (jan.customers_warned, jan.customers_terminated) == (1, 1)
    assert jan.answered_share == 75.0
    assert jan.chain_stopped == 1


def test_it_rolls_months_up_into_quarters_and_all_time(built):
    q1 = card(built["acme"], Period.QUARTER, "2026-Q1")
    assert (q1.notices, q1.answered, q1.answered_on_time) == (5, 4, 3)
    # answers of 1, 3, 5 and 30 hours: the median is 4 hours
    assert q1.median_answer_seconds == pytest.approx(4 * 3600, abs=1)
    overall = card(built["acme"], Period.ALL, "all")
    assert overall.notices == 6 and overall.open_notices == 1 and overall.never_answered == 1
    assert card(built["acme"], Period.QUARTER, "2026-Q2").open_notices == 1


def test_it_counts_illegal_originating_and_point_of_entry_roles_with_their_campaigns(built):
    overall = card(built["acme"], Period.ALL, "all")
    # tb1 (confirmed campaign) and tb3 (legal basis) count; tb2 (suspected) does not
    assert overall.originating_illegal == 2
    # every traceback naming it counts as traced, and its campaigns are listed
    assert overall.originating_traced == 3
    assert overall.originating_campaign_ids == sorted([built["confirmed"].id, built["suspected"].id])
    gw = card(built["gw"], Period.ALL, "all")
    assert gw.point_of_entry_illegal == 1 and gw.point_of_entry_campaign_ids == [built["confirmed"].id]
    assert card(built["foreign"], Period.ALL, "all").originating_illegal == 1


def test_it_gives_every_registry_provider_an_all_time_row(built):
    quiet = card(built["other"], Period.ALL, "all")
    assert quiet.notices == 0 and quiet.answered_share is None and quiet.median_answer_seconds is None
    assert not ProviderScorecard.objects.unscoped(reason="test").filter(provider=built["other"], period=Period.MONTH).exists()


def test_it_replaces_the_previous_computation(built):
    before = ProviderScorecard.objects.unscoped(reason="test").count()
    compute_all(now=NOW)
    assert ProviderScorecard.objects.unscoped(reason="test").count() == before


def test_it_takes_exact_medians_of_short_and_long_lists():
    import numpy as np

    from robotrace.scorecards.scorecards import _group_medians

    long = list(range(1000, 0, -1))  # 1..1000: median 500.5
    lists = [[], [5, 1, 3], [4, 1, 3, 2], long, [*long, 1001]]
    values = np.array([v for values in lists for v in values], dtype=np.int64)
    groups = np.array([g for g, values in enumerate(lists) for _ in values], dtype=np.int64)
    medians = _group_medians(values, groups, len(lists))
    assert medians[0] is None
    assert medians[1] == 3
    assert medians[2] == 2.5
    assert medians[3] == 500.5
    assert medians[4] == 501


@pytest.mark.django_db(transaction=True)
def test_the_two_connection_read_matches_the_one_connection_read(monkeypatch):
    """Outside a transaction the hops are read on two connections at once (both cores);
    inside one, on the caller's connection alone. Both must give the same scorecards,
    window figures and evidence."""

    from django.db import transaction

    from robotrace.scorecards import scorecards

    make_world()
    submitted = []

    class CountingPool(scorecards.ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):
            submitted.append(fn)
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(scorecards, "ThreadPoolExecutor", CountingPool)
    monkeypatch.setattr(scorecards, "READ_CHUNK", 2)  # many id ranges, split between the connections
    since = NOW - timedelta(days=120)
    with transaction.atomic():
        alone, window_alone = scorecards.collect(NOW, since)
    assert not submitted
    split, window_split = scorecards.collect(NOW, since)
    assert submitted, "the second connection was not used"

    def plain(window):
        return {
            pid: (w.notices_due, w.answered, w.never, w.no_record, w.originating, w.originating_illegal, w.gateway,
                  w.gateway_illegal, w.hop_evidence(), w.originating_ids.tolist(), w.gateway_illegal_ids.tolist())
            for pid, w in window.items()
        }

    def values(level):  # Python values only, comparable with ==
        return {**level.__dict__, "pids": level.pids.tolist(), "counts": level.counts.tolist()}

    assert [values(level) for level in split] == [values(level) for level in alone]
    assert plain(window_split) == plain(window_alone)
    assert sum(len(level.pids) for level in alone) > 0 and window_alone

    # The table itself: written on the caller's connection inside a transaction, on a
    # second one while the next period is computed outside.
    def table():
        fields = [f.name for f in ProviderScorecard._meta.concrete_fields if f.name not in ("id", "computed_at")]
        return sorted(ProviderScorecard.objects.unscoped(reason="test").values_list(*fields))

    submitted.clear()
    with transaction.atomic():
        inside = compute_all(now=NOW, since=since)
    written_inside = table()
    outside = compute_all(now=NOW, since=since)
    assert len(submitted) == 2  # the reader and the writer
    assert table() == written_inside and inside.rows == outside.rows == len(written_inside)


@pytest.mark.django_db(transaction=True)
def test_a_failed_computation_leaves_the_previous_scorecards(monkeypatch):
    from robotrace.scorecards import scorecards

    make_world()
    first = compute_all(now=NOW)
    before = ProviderScorecard.objects.unscoped(reason="test").count()
    assert before == first.rows

    def broken(*args, **kwargs):
        raise RuntimeError("period roll-up failed")

    monkeypatch.setattr(scorecards, "_level", broken)
    followed = []
    with pytest.raises(RuntimeError):
        compute_all(now=NOW + timedelta(days=1), while_writing=followed.append)
    assert ProviderScorecard.objects.unscoped(reason="test").count() == before
    assert not followed, "the follow-up ran after a failed computation"


@pytest.mark.django_db(transaction=True)
def test_the_follow_up_runs_while_the_rows_are_written_and_returns_its_result():
    make_world()
    seen = []

    def follow_up(window):
        seen.append(sorted(window))
        return "rules evaluated"

    result = compute_all(now=NOW, while_writing=follow_up)
    assert result.during == "rules evaluated"
    assert seen == [sorted(result.window)] and seen[0]
    assert ProviderScorecard.objects.unscoped(reason="test").count() == result.rows


@pytest.mark.django_db(transaction=True)
def test_a_reader_holding_the_table_gets_a_row_by_row_rewrite_instead_of_a_wait(monkeypatch):
    """TRUNCATE waits for every reader; past the lock timeout the rewrite deletes instead,
    and the reader keeps its rows until it is done."""
    from django.db import connection

    from robotrace.scorecards import scorecards

    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE is the PostgreSQL path")
    import threading

    import psycopg
    from django.db import connections

    make_world()
    first = compute_all(now=NOW)
    monkeypatch.setattr(scorecards, "TRUNCATE_LOCK_TIMEOUT", "200ms")
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or None, port=settings["PORT"] or None, user=settings["USER"], password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
    ) as reader:
        reader.execute(f"SELECT COUNT(*) FROM {ProviderScorecard._meta.db_table}")  # holds ACCESS SHARE until commit
        results = []

        def rewrite():
            try:
                results.append(compute_all(now=NOW + timedelta(days=1)))
            finally:
                connections.close_all()

        # In a thread, so that a rewrite stuck behind the reader fails the test instead of hanging it.
        worker = threading.Thread(target=rewrite)
        worker.start()
        worker.join(timeout=30)
        stuck = worker.is_alive()
        assert reader.execute(f"SELECT COUNT(*) FROM {ProviderScorecard._meta.db_table}").fetchone()[0] == first.rows
    worker.join()
    assert not stuck, "the rewrite waited for the reader"
    assert ProviderScorecard.objects.unscoped(reason="test").count() == results[0].rows
    assert {c.computed_at for c in ProviderScorecard.objects.unscoped(reason="test")} == {NOW + timedelta(days=1)}


@pytest.mark.django_db(transaction=True)
def test_copy_text_keeps_backslashes_quotes_and_nulls(monkeypatch):
    """The all-time attestation JSON is the one free text in the rows written as COPY text."""
    from robotrace.scorecards import scorecards

    world = make_world()
    odd = {"A": 3, "note": 'tab\there "quoted" \\ back\\slash \u00e9'}
    monkeypatch.setattr(scorecards, "_signing_stats", lambda ids: {world["acme"].id: odd})
    compute_all(now=NOW)
    assert card(world["acme"], Period.ALL, "all").attestation == odd
    assert card(world["other"], Period.ALL, "all").median_answer_seconds is None
    assert card(world["other"], Period.ALL, "all").period_start is None


def test_numbers_as_text_small_and_large():
    import numpy as np

    from robotrace.scorecards.scorecards import _texts

    assert _texts(np.array([0, 7, 65535], dtype=np.int64)) == ["0", "7", "65535"]
    assert _texts(np.array([70000, 3, 70000, -2], dtype=np.int64)) == ["70000", "3", "70000", "-2"]
    assert _texts(np.zeros(0, dtype=np.int64)) == []


@pytest.mark.parametrize("dense_cells", [1 << 24, 1])
def test_grouping_keys_on_a_grid_matches_sorting_them(monkeypatch, dense_cells):
    import numpy as np

    from robotrace.scorecards import scorecards

    monkeypatch.setattr(scorecards, "DENSE_CELLS", dense_cells)  # 1: always the sorting fallback
    rng = np.random.default_rng(3)
    pids = rng.choice([5, 9, 70_000, 123_456], size=5000)
    months = rng.integers(24_290, 24_330, size=5000)
    values = (((pids << scorecards.MONTH_BITS) | months) << 1) | rng.integers(0, 2, size=5000)
    keys, group = scorecards._group_keys(values)
    expected_keys, expected_group = np.unique(values, return_inverse=True)
    assert np.array_equal(keys, expected_keys) and np.array_equal(group, expected_group)


def test_window_evidence_from_one_sort_matches_three_uniques():
    import numpy as np

    from robotrace.scorecards.scorecards import WindowStats

    rng = np.random.default_rng(5)
    for _ in range(300):
        sizes = rng.integers(0, 20, size=rng.integers(1, 4))
        parts = [(rng.integers(1, 50, size=n) * 4 + rng.integers(0, 4, size=n)).astype(np.int64) for n in sizes]
        codes = np.concatenate(parts)
        ids = codes >> 2
        expected = (np.unique(ids[(codes & 1) == 1]).tolist(), np.unique(ids[(codes & 2) == 2]).tolist(), np.unique(ids).tolist())
        assert WindowStats(hop_codes=parts).hop_evidence() == expected
    assert WindowStats().hop_evidence() == ([], [], [])

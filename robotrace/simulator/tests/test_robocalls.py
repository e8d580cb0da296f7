from __future__ import annotations

from collections import Counter

from robotrace.campaigns.models import Category
from robotrace.simulator.robocalls import generate, ingest_fields
from robotrace.simulator.scripts import SCRIPTS


def test_it_is_deterministic_for_a_seed():
    assert list(generate(200, seed=4)) == list(generate(200, seed=4))
    assert list(generate(200, seed=4)) != list(generate(200, seed=5))


def test_it_covers_the_taxonomy_with_our_own_scripts():
    assert len(SCRIPTS) >= 25
    cats = {s.category for s in SCRIPTS}
    assert cats <= set(Category.values)
    assert len(cats) >= 14


def test_it_plays_scripts_with_variation_and_truth():
    calls = list(generate(3000, seed=1))
    assert {c["true_campaign"] for c in calls} and all(c["true_category"] in Category.values for c in calls)
    texts = Counter(c["transcript"] for c in calls if c.get("transcript"))
    # Replays of one recording repeat exactly, recognition noise and fragments do not.
    assert texts.most_common(1)[0][1] > 20 and len(texts) > 500
    complaints = [c for c in calls if c["report_type"] == "complaint"]
    assert complaints and not any(c.get("transcript") for c in complaints)
    # Caller IDs rotate: a campaign uses many.
    per_campaign = Counter()
    for c in calls:
        per_campaign[(c["true_campaign"], c["calling_number"])] += 1
    callers = Counter(k[0] for k in per_campaign)
    assert max(callers.values()) > 20


def test_it_yields_only_ingest_fields_once_truth_is_stripped():
    from robotrace.ingest.schema import FIELDS

    for c in generate(300, seed=2):
        assert set(ingest_fields(c)) <= set(FIELDS)
        n = c["called_number"]
        assert n.startswith("+1") and len(n) == 12 and n[5:8] not in ("555", "958", "959")


def test_it_makes_bursts_of_one_caller_id():
    calls = list(generate(5000, seed=3))
    windows = Counter((c["calling_number"], c["call_started_at"][:15]) for c in calls)
    assert max(windows.values()) >= 20

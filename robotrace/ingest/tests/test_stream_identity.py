"""A stream message's reporter is its subject, never a header a publisher can set (#20)."""

from __future__ import annotations

import importlib

from robotrace.ingest.models import CallReport
from robotrace.ingest.synthetic import ndjson

store_message = importlib.import_module("robotrace.ingest.management.commands.ingest-stream").store_message


def test_it_stores_a_message_as_the_reporter_of_its_subject(world):
    outcome = store_message(ndjson(3, prefix="subj"), {}, "robotrace.reports.reporter-a", "S", 1)
    assert outcome.startswith("stored")
    assert CallReport.objects.for_org(world.reporter_a).count() == 3


def test_it_refuses_a_reporter_header_that_names_another_reporter(world):
    outcome = store_message(ndjson(3, prefix="spoof"), {"Reporter": "reporter-b"}, "robotrace.reports.reporter-a", "S", 2)
    assert outcome.startswith("poison") and "subject" in outcome
    assert CallReport.objects.for_org(world.reporter_b).count() == 0
    assert CallReport.objects.for_org(world.reporter_a).count() == 0


def test_a_header_that_agrees_with_the_subject_is_harmless(world):
    outcome = store_message(ndjson(2, prefix="agree"), {"Reporter": "reporter-b"}, "robotrace.reports.reporter-b", "S", 3)
    assert outcome.startswith("stored")
    assert CallReport.objects.for_org(world.reporter_b).count() == 2

"""A stream message's reporter is its subject, never a header a publisher can set (#20)."""

from __future__ import annotations

import importlib

import pytest

from robotrace.ingest.models import CallReport
from robotrace.ingest.synthetic import ndjson

store_message = importlib.import_module("robotrace.ingest.management.commands.ingest-stream").store_message

# store_message runs in the consumer's worker thread and closes stale connections first, as
# the consumer must; inside a test's rolled-back transaction that would close the test's own
# connection on PostgreSQL, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


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

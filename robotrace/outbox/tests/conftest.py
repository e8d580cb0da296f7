"""Helpers for the outbox tests: a webhook endpoint kind the tests control."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from robotrace.core.webhooks import new_secret
from robotrace.outbox import services
from robotrace.outbox.transports import Endpoint

KIND = "tests.endpoint"


class Endpoints:
    """A registry of test endpoints by id; `services` asks it before each retry."""

    def __init__(self) -> None:
        self.by_id: dict[int, Endpoint] = {}

    def add(self, endpoint_id: int, url: str) -> Endpoint:
        ep = self.by_id[endpoint_id] = Endpoint(url, new_secret(), allow_insecure=True)
        return ep

    def resolve(self, endpoint_id: int) -> Endpoint | None:
        return self.by_id.get(endpoint_id)


@pytest.fixture
def endpoints(monkeypatch: pytest.MonkeyPatch) -> Iterator[Endpoints]:
    eps = Endpoints()
    monkeypatch.setitem(services._RESOLVERS, KIND, eps.resolve)
    yield eps

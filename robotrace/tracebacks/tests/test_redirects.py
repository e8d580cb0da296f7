"""Traceback forms go back only to pages of this site (#20 finding 10: an unchecked POST `next`)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse


@pytest.mark.parametrize("target", ["https://evil.example/phish", "//evil.example/", "javascript:alert(1)"])
def test_a_foreign_next_is_ignored(world: Any, as_user: Any, target: str) -> None:
    r = as_user(world.alice).post(reverse("tracebacks:open_from_report"), {"report_id": "999999", "next": target})
    assert r.status_code == 302
    assert r["Location"] == reverse("tracebacks:board")


def test_a_page_of_this_site_is_followed(world: Any, as_user: Any) -> None:
    r = as_user(world.alice).post(reverse("tracebacks:open_from_report"), {"report_id": "999999", "next": "/campaigns/"})
    assert r["Location"] == "/campaigns/"

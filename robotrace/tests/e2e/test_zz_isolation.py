"""Runs after the browser tests (file order): Playwright's event loop must be gone, so other
apps' tests that call asyncio.run() on the same worker keep working."""

from __future__ import annotations

import asyncio


def test_asyncio_run_works_after_the_browser_closed():
    async def ping() -> str:
        return "pong"

    assert asyncio.run(ping()) == "pong"

"""Shared checks for the app flows: console errors, uncaught page errors and failed
sub-requests are collected while a flow runs, and asserted empty at its end."""

from __future__ import annotations

from typing import Any

# The base template links no icon, so Chromium asks for /favicon.ico on every site; that
# 404 is the browser's habit, not a broken page.
IGNORED_URL_ENDINGS = ("/favicon.ico",)


def watch_console(page: Any) -> list[str]:
    problems: list[str] = []

    def on_console(msg: Any) -> None:
        url = (msg.location or {}).get("url", "")
        if msg.type == "error" and not url.endswith(IGNORED_URL_ENDINGS):
            problems.append(f"console.error: {msg.text} at {url} (page {page.url})")

    def on_response(response: Any) -> None:
        if response.status >= 400 and response.request.resource_type != "document" and not response.url.endswith(IGNORED_URL_ENDINGS):
            problems.append(f"HTTP {response.status}: {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc} (page {page.url})"))
    page.on("response", on_response)
    return problems

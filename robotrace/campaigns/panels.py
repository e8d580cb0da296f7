"""Home-page panel: new and surging campaigns for consortium staff."""

from __future__ import annotations

from robotrace.core.navigation import register_home_panel


def register() -> None:
    from robotrace.campaigns import views

    register_home_panel(kinds=("consortium",), template="campaigns/_home_panel.html", context=views.home_panel, order=15)

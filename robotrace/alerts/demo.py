"""Demo subscriptions: NC and Ohio watch their states, the FTC watches every state for
campaigns that spread. No webhooks (alerts arrive in the portal and by e-mail link).

Two seeders: subscriptions before the campaigns seeder (so live events find them), and an
evaluation after every seeder, so the demo opens with the alerts its campaigns earned."""

from __future__ import annotations

from typing import Any

from robotrace.alerts import services

IMPERSONATION = ["ssa_impersonation", "government_impersonation", "amazon_impersonation", "apple_impersonation", "financial_impersonation"]

SPECS: list[tuple[str, str, dict[str, Any]]] = [
    ("nc-doj", "dana@ncdoj.example", {"name": "North Carolina robocalls", "states": ["NC"], "min_reports": 3,
                                     "event_kinds": ["opened", "surge", "confirmed"]}),
    ("nc-doj", "dana@ncdoj.example", {"name": "Impersonation scams reaching 919/704", "area_codes": ["919", "704"], "min_reports": 5,
                                     "categories": IMPERSONATION, "event_kinds": ["volume", "confirmed"]}),
    ("ohio-ago", "omar@ohioago.example", {"name": "Ohio robocalls", "states": ["OH"], "min_reports": 3,
                                         "event_kinds": ["opened", "surge", "confirmed"]}),
    ("ftc", "fran@ftc.example", {"name": "Multi-state campaigns", "all_states": True, "min_reports": 20, "min_states": 3,
                                "event_kinds": ["states", "confirmed"]}),
]


def seed(world: Any) -> None:
    for slug, email, data in SPECS:
        org = world.orgs.get(slug)
        if org is not None:
            services.create_subscription(actor=world.users.get(email), organisation=org, data=data)


def evaluate(world: Any) -> None:
    # Events seeded by other apps are evaluated now rather than at the next periodic run.
    services.catch_up(limit=10_000)
    services.recheck_recent()

"""Demo subscriptions: NC and Ohio watch their states, the FTC watches every state for
campaigns that spread. No webhooks (alerts arrive in the portal and by e-mail link)."""

from __future__ import annotations

from typing import Any

from robotrace.alerts import services


def seed(world: Any) -> None:
    users = world.users
    specs = [
        ("nc-doj", "dana@ncdoj.example", {"name": "North Carolina robocalls", "states": ["NC"], "min_reports": 3}),
        ("nc-doj", "dana@ncdoj.example", {"name": "Impersonation scams reaching 919/704", "area_codes": ["919", "704"], "min_reports": 2,
                                         "categories": ["ssa_impersonation", "government_impersonation", "amazon_impersonation", "financial_impersonation"]}),
        ("ohio-ago", "omar@ohioago.example", {"name": "Ohio robocalls", "states": ["OH"], "min_reports": 3}),
        ("ftc", "fran@ftc.example", {"name": "Multi-state campaigns", "all_states": True, "min_reports": 20, "min_states": 3}),
    ]
    for slug, email, data in specs:
        org = world.orgs.get(slug)
        if org is None:
            continue
        services.create_subscription(actor=users.get(email), organisation=org, data=data)

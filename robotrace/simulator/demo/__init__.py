"""The simulated parts of the demo world: robocall reports uploaded by the demo reporters,
the campaigns they form, and signed calls for STIR/SHAKEN. They live here rather than in
ingest, campaigns and shaken because their data comes from the simulator, which sits above
those apps; each goes through the app's own services, in the order the demo needs."""

from __future__ import annotations


def register() -> None:
    from robotrace.core.demo import register_seeder
    from robotrace.simulator.demo import campaigns, shaken, uploads

    register_seeder(30, "ingest", uploads.seed)
    register_seeder(40, "campaigns", campaigns.seed)
    register_seeder(85, "shaken", shaken.seed)

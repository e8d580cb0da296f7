"""Demo data: the simulated SHAKEN PKI (so simulated calls verify offline), a registry
link for the demo providers' SPCs, and verification of every signed demo report."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("robotrace.shaken")


def seed(world: Any) -> None:
    from robotrace.shaken import services, signing

    signing.ensure_pki()
    for org in world.orgs.values():
        spc = getattr(org, "spc", "") or ""
        if org.kind == "provider" and spc:
            signing.x5u_for(spc)
            try:
                signing.sign_passport(spc, "12025550100", "19195550100", "A")  # mints the leaf
            except ValueError:
                logger.warning("demo provider %s has an unusable SPC %r", org.slug, spc)
    total = services.catch_up_all()
    logger.info("shaken demo: verified %s signed reports", total)

from __future__ import annotations

import pytest

from robotrace.campaigns.categories import FAMILY_MAP, PROTOTYPES, categorise
from robotrace.campaigns.models import Category
from robotrace.simulator.scripts import SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda s: s.key)
def test_it_puts_each_project_script_in_its_family(script):
    text = script.text.format(**{k: v[0] for k, v in script.slots.items()}, callback="833-204-7711")
    assert categorise(text)[0] == script.category


def test_it_lets_the_impersonated_agency_win_over_generic_threats():
    text = "This call is from the Social Security Administration. A legal enforcement action was filed and an officer will contact you; a warrant may follow."
    assert categorise(text)[0] == Category.SSA_IMPERSONATION


def test_it_falls_back_to_prototypes_then_other():
    # No rule keyword, but the auto-warranty prototype's wording.
    cat, source, _ = categorise("We have been trying to reach you about your coverage. This is your final courtesy call before we close your file. Press 1 to speak to a specialist.")
    assert (cat, source) == (Category.AUTO_WARRANTY, "prototype")
    assert categorise("Hello? Hello? Can you hear me?")[0] == Category.OTHER
    assert categorise("")[0] == Category.UNKNOWN


def test_it_has_prototypes_and_family_mappings_in_the_taxonomy():
    assert set(PROTOTYPES) <= set(Category.values)
    assert set(FAMILY_MAP.values()) <= set(Category.values)

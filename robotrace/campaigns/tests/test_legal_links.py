"""The campaign page links staff to the legal requests naming it and its evidence packages."""

from __future__ import annotations

import pytest

from robotrace.legal.tests.conftest import file, make_chain


@pytest.mark.django_db
def test_it_links_a_campaign_to_its_legal_requests_and_packages(world, as_user):
    from robotrace.legal.models import EvidencePackage

    chain = make_chain(world)
    req = file(world, targets=[{"kind": "campaign", "value": chain.campaign.ref}])
    other = file(world, world.omar, case_number="OH-9")  # names a phone only
    pkg = EvidencePackage.objects.create(title="TRO", campaign_id=chain.campaign.pk,
                                         produced_to=world.agency_a)
    body = as_user(world.carol).get(f"/campaigns/{chain.campaign.pk}/").content.decode()
    assert f'href="/legal/requests/{req.pk}/"' in body and f'href="/legal/requests/{other.pk}/"' not in body
    assert f'href="/legal/evidence/{pkg.pk}/"' in body
    # The legal request page links back to the campaign and pre-selects it for a package.
    detail = as_user(world.carol).get(f"/legal/requests/{req.pk}/").content.decode()
    assert f'href="/campaigns/{chain.campaign.pk}/"' in detail


@pytest.mark.django_db
def test_it_shows_no_legal_card_to_agencies(world, as_user):
    chain = make_chain(world)
    file(world, targets=[{"kind": "campaign", "value": chain.campaign.ref}])
    response = as_user(world.dana).get(f"/campaigns/{chain.campaign.pk}/")
    assert response.status_code in (200, 403, 404)
    assert "Legal requests naming this campaign" not in response.content.decode()

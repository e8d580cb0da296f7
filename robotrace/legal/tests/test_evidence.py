from __future__ import annotations

import csv
import io
import zipfile

from django.urls import reverse

from robotrace.legal import services
from robotrace.legal.models import EvidencePackage
from robotrace.legal.packaging import verify_zip
from robotrace.legal.tests.conftest import fresh_login, stale_login
from robotrace.legal.uploads import full_path


def _start(world, chain, django_capture_on_commit_callbacks, **kw):
    with django_capture_on_commit_callbacks(execute=True):
        pkg = services.start_evidence_package(actor=world.alice, organisation=world.consortium, campaign_id=chain.campaign.pk, **kw)
    pkg.refresh_from_db()
    return pkg


def test_it_builds_a_package_in_the_background_with_every_exhibit(world, chain, django_capture_on_commit_callbacks):
    pkg = _start(world, chain, django_capture_on_commit_callbacks, produced_to=world.agency_a)
    assert pkg.status == "done" and pkg.progress == 100, pkg.error
    data = full_path(pkg.zip_path).read_bytes()
    assert verify_zip(data) == []
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = {n.split("/", 1)[1] for n in zf.namelist()}
    assert {"declaration_exhibit.pdf", "exhibit_a_tracebacks.csv", "exhibit_a_hops.csv", "exhibit_b_notice_history.csv",
            "exhibit_c_daily_volume.csv", "exhibit_c_called_states.csv", "providers.csv", "originating_customers.csv",
            "CERTIFICATION.txt", "MANIFEST.sha256"} <= names
    folder = zf.namelist()[0].split("/")[0]
    notices = list(csv.DictReader(io.StringIO(zf.read(f"{folder}/exhibit_b_notice_history.csv").decode())))
    assert len(notices) == 9 and all(n["notice_received_utc"] for n in notices)
    tbs = list(csv.DictReader(io.StringIO(zf.read(f"{folder}/exhibit_a_tracebacks.csv").decode())))
    # Consumers' numbers are masked in court filings.
    assert all(t["called_number"].endswith(t["called_number"][-4:]) and "•" in t["called_number"] for t in tbs)
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(zf.read(f"{folder}/declaration_exhibit.pdf"))).pages)
    assert "extended warranty" in text and "Exhibit B" in text and "Origin VoIP" in text and "1746" in text


def test_it_regenerates_identical_hashes_for_identical_data(world, chain, django_capture_on_commit_callbacks):
    first = _start(world, chain, django_capture_on_commit_callbacks)
    second = _start(world, chain, django_capture_on_commit_callbacks)
    assert first.pk != second.pk
    assert first.sha256 == second.sha256 and first.manifest == second.manifest
    # New evidence changes the hash.
    from robotrace.tracebacks.models import Hop

    hop = Hop.objects.unscoped(reason="test").filter(traceback=chain.tracebacks[0], sequence=3).get()
    hop.attestation_seen = "C"
    hop.save()
    third = _start(world, chain, django_capture_on_commit_callbacks)
    assert third.sha256 != first.sha256


def test_it_builds_a_package_for_a_set_of_tracebacks(world, chain, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        pkg = services.start_evidence_package(actor=world.alice, organisation=world.consortium, campaign_id=None, traceback_ids=[chain.tracebacks[0].pk])
    pkg.refresh_from_db()
    assert pkg.status == "done"
    assert pkg.included_traceback_ids == [chain.tracebacks[0].pk]
    assert pkg.manifest["counts"]["tracebacks"] == 1


def test_it_starts_a_package_from_the_campaign_picker_and_shows_progress(world, chain, as_user, django_capture_on_commit_callbacks):
    client = as_user(world.alice)
    page = client.get(reverse("legal:evidence_new") + f"?campaign={chain.campaign.pk}").content.decode()
    assert f'value="{chain.campaign.pk}" selected' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("legal:evidence_new"), {"campaign": chain.campaign.pk, "produced_to": world.agency_a.pk})
    assert response.status_code == 302
    pkg = EvidencePackage.objects.for_org(world.consortium).get()
    progress = client.get(reverse("legal:evidence_progress", args=[pkg.pk]))
    assert progress.status_code == 200 and "Ready" in progress.content.decode()


def test_it_lets_the_agency_download_a_package_produced_to_it_after_a_fresh_login(world, chain, as_user, django_capture_on_commit_callbacks):
    pkg = _start(world, chain, django_capture_on_commit_callbacks, produced_to=world.agency_a)
    client = stale_login(as_user(world.dana))
    url = reverse("legal:evidence_download", args=[pkg.pk])
    assert "reauthenticate" in client.get(url)["Location"]
    fresh_login(client)
    response = client.get(url)
    assert response.status_code == 200
    import hashlib

    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == pkg.sha256
    other = stale_login(as_user(world.omar))
    fresh_login(other)
    assert other.get(url).status_code == 404
    assert other.get(reverse("legal:evidence_detail", args=[pkg.pk])).status_code == 404


def test_it_refuses_packages_to_non_staff(world, chain, as_user):
    for user in (world.dana, world.pat, world.rita):
        assert as_user(user).get(reverse("legal:evidence_new")).status_code == 403

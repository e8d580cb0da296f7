from __future__ import annotations

from robotrace.tracebacks import services
from robotrace.tracebacks.models import Hop, TracebackRequest
from robotrace.tracebacks.tests.factories import make_net, open_tb


def test_it_shows_the_board_and_detail_to_staff_only(world, as_user) -> None:
    net = make_net(world)
    tb = open_tb(world)
    services.answer_hop(actor=None, organisation=world.provider_a, hop_id=tb.hops.get().id, response="upstream", upstream_provider_id=net.transit.id)
    staff = as_user(world.alice)
    r = staff.get("/tracebacks/")
    assert r.status_code == 200 and tb.ref.encode() in r.content
    r = staff.get(f"/tracebacks/{tb.id}/")
    assert r.status_code == 200 and b"Bravo Transit" in r.content and b"Alpha Terminating" in r.content
    for user in (world.pat, world.rita, world.dana):
        assert as_user(user).get("/tracebacks/").status_code == 403
    assert as_user(world.pat).get(f"/tracebacks/{tb.id}/").status_code == 403
    assert as_user(world.dana).get(f"/tracebacks/{tb.id}/").status_code == 404


def test_it_shows_a_provider_only_its_own_hops(world, as_user) -> None:
    net = make_net(world)
    tb = open_tb(world)
    h1 = tb.hops.get()
    pat, quinn = as_user(world.pat), as_user(world.quinn)
    assert tb.ref.encode() in pat.get("/tracebacks/inbox/").content
    assert tb.ref.encode() not in quinn.get("/tracebacks/inbox/").content
    assert quinn.get(f"/tracebacks/hops/{h1.id}/respond/").status_code == 404
    assert as_user(world.alice).get("/tracebacks/inbox/").status_code == 403
    r = pat.post(f"/tracebacks/hops/{h1.id}/respond/", {"response": "upstream", "upstream_provider": net.transit.id})
    assert r.status_code == 302
    h2 = tb.hops.get(sequence=2)
    page = quinn.get(f"/tracebacks/hops/{h2.id}/respond/")
    assert page.status_code == 200 and b"Alpha Terminating" in page.content
    assert quinn.get(f"/tracebacks/hops/{h1.id}/respond/").status_code == 404
    assert quinn.post(f"/tracebacks/hops/{h1.id}/respond/", {"response": "originated"}).status_code == 404


def test_it_shows_form_errors_and_changes_nothing(world, as_user) -> None:
    make_net(world)
    hop = open_tb(world).hops.get()
    r = as_user(world.pat).post(f"/tracebacks/hops/{hop.id}/respond/", {"response": "originated", "customer_name": "Dialer LLC", "customer_email": "nope"})
    assert r.status_code == 200 and b"not an e-mail address" in r.content
    hop.refresh_from_db()
    assert hop.status == Hop.Status.REQUESTED


def test_it_opens_from_a_campaign_url_for_staff_only(world, as_user) -> None:
    make_net(world)
    assert as_user(world.pat).post("/tracebacks/open/campaign/1/").status_code == 403
    assert as_user(world.dana).post("/tracebacks/open/report/", {"report_id": "1"}).status_code == 403
    r = as_user(world.alice).post("/tracebacks/open/campaign/999999/", {"samples": "2"})
    assert r.status_code == 302  # refused with a message, nothing opened


def test_it_takes_agency_requests_that_staff_accept(world, as_user) -> None:
    make_net(world)
    dana = as_user(world.dana)
    r = dana.post("/tracebacks/requests/", {"call_started_at": "2026-11-20 10:00", "call_timezone": "America/New_York",
                                            "calling_number": "202-555-0111", "called_number": "919-555-0223", "reason": "case 42"})
    assert r.status_code == 302
    req = TracebackRequest.objects.for_org(world.agency_a).get()
    assert as_user(world.omar).get("/tracebacks/requests/").content.count(b"202-555-0111") == 0
    assert as_user(world.pat).post(f"/tracebacks/requests/{req.id}/decide/", {"decision": "accept"}).status_code == 403
    as_user(world.alice).post(f"/tracebacks/requests/{req.id}/decide/", {"decision": "accept"})
    req.refresh_from_db()
    assert req.status == "accepted" and req.traceback is not None
    assert dana.get(f"/tracebacks/{req.traceback_id}/").status_code == 200


def test_it_puts_panels_on_home_pages(world, as_user) -> None:
    make_net(world)
    tb = open_tb(world)
    assert b"Hop requests" in as_user(world.pat).get("/").content
    assert tb.ref.encode() not in as_user(world.quinn).get("/").content
    # The consortium home has other apps' panels too; render ours on its own.
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from robotrace.tracebacks import panels

    request = RequestFactory().get("/")
    request.user = world.alice
    html = render_to_string("tracebacks/panel_consortium.html", {"ctx": panels.consortium_panel(request)})
    assert "Overdue hops" in html and ">1<" in html


def test_it_refuses_every_page_to_the_wrong_organisations(world, as_user) -> None:
    from robotrace.tracebacks import services as svc

    make_net(world)
    tb = open_tb(world)
    hop = tb.hops.get()
    ev = svc.attach_evidence(actor=None, organisation=world.provider_a, hop_id=hop.id, filename="sip.txt", content=b"INVITE", content_type="text/plain")
    pat, quinn, rita, dana, alice = (as_user(u) for u in (world.pat, world.quinn, world.rita, world.dana, world.alice))
    # Evidence: the answering provider and staff only; the next provider never.
    assert pat.get(f"/tracebacks/evidence/{ev.id}/").status_code == 200
    assert alice.get(f"/tracebacks/evidence/{ev.id}/").status_code == 200
    assert quinn.get(f"/tracebacks/evidence/{ev.id}/").status_code == 404
    assert dana.get(f"/tracebacks/evidence/{ev.id}/").status_code == 403
    # Staff-only pages and actions.
    for client in (pat, rita, dana):
        assert client.get("/tracebacks/open/").status_code == 403
        assert client.post("/tracebacks/open/report/", {"report_id": "1"}).status_code == 403
    # Provider-only pages.
    for client in (alice, rita, dana):
        assert client.get("/tracebacks/inbox/").status_code == 403
        assert client.get(f"/tracebacks/hops/{hop.id}/respond/").status_code == 403
    # Agency-only request page.
    for client in (pat, rita, alice):
        assert client.get("/tracebacks/requests/").status_code == 403
    assert rita.get(f"/tracebacks/{tb.id}/").status_code == 403
    hop.refresh_from_db()
    assert hop.status == Hop.Status.REQUESTED


def test_it_opens_a_trace_forward_from_the_detail_page(world, as_user) -> None:
    from robotrace.tracebacks.models import Traceback

    make_net(world)
    r = as_user(world.alice).post("/tracebacks/open/forward/", {"callback_number": "(919) 555-8888"})
    tb = Traceback.objects.for_org(world.consortium).get(kind="trace_forward")
    assert r.status_code == 302 and tb.callback_number == "+19195558888"
    assert as_user(world.pat).post("/tracebacks/open/forward/", {"callback_number": "9195558888"}).status_code == 403
    assert as_user(world.alice).get(f"/tracebacks/{tb.id}/").status_code == 200

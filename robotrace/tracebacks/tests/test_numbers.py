"""A traceback starts only from numbers a line could hold (core.phones' NANP rules), not
from any ten digits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from robotrace.tracebacks import services
from robotrace.tracebacks.models import Traceback, TracebackRequest
from robotrace.tracebacks.services import TracebackError
from robotrace.tracebacks.tests.factories import make_net

NO_LINE = ["0000000001", "1234567890", "919-555-0123", "999-332-4567", "919-211-4567", "+1 919 958 1234"]


@pytest.mark.parametrize("called", NO_LINE)
def test_it_refuses_to_open_a_traceback_on_a_number_no_line_could_hold(world, called) -> None:
    make_net(world)
    s = services.SampleCall(call_started_at=timezone.now(), calling_number="+12025550111", called_number=called)
    with pytest.raises(TracebackError, match="is not a valid number"):
        services.open_traceback(actor=world.alice, organisation=world.consortium, sample=s)
    with pytest.raises(TracebackError, match="is not a valid number"):
        services.open_trace_forward(actor=world.alice, organisation=world.consortium, callback_number=called)
    with pytest.raises(TracebackError, match="is not a valid number"):
        services.submit_request(actor=world.dana, organisation=world.agency_a, call_started_at=timezone.now() - timedelta(hours=1),
                                calling_number="+12025550111", called_number=called)
    assert Traceback.objects.unscoped(reason="test").count() == 0
    assert TracebackRequest.objects.unscoped(reason="test").count() == 0

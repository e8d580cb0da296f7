"""Rows other apps own, created directly for tests of this app."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

_seq = itertools.count(1)


def report(reporter: Any, *, identity: str = "", at: dt.datetime | None = None, calling: str = "+12025550143", called: str = "+19195550100", upload: Any = None, **kw: Any) -> Any:
    from robotrace.ingest.models import CallReport

    at = at or timezone.now() - dt.timedelta(hours=1)
    return CallReport.objects.create(
        reporter=reporter,
        upload=upload,
        source_report_id=f"t-{next(_seq)}",
        report_type=CallReport.ReportType.CARRIER_ANALYTICS,
        received_at=timezone.now(),
        call_started_at=at,
        calling_number=calling,
        calling_number_e164=calling,
        called_number=called,
        identity_header=identity,
        **kw,
    )


def provider(name: str, spc: str = "", **kw: Any) -> Any:
    from robotrace.providers.models import Provider

    return Provider.objects.create(name=name, spc=spc, **kw)

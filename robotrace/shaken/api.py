"""STIR/SHAKEN API: consortium staff search stored verdicts and verify a header ad hoc."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from robotrace.accounts.apiauth import ApiKeyAuth, principal_of
from robotrace.core.pagination import page, page_response
from robotrace.core.problems import ApiProblem
from robotrace.shaken import queries, services
from robotrace.shaken.models import ShakenVerification

router = Router()

# No shaken-specific key scope exists yet; signer data is provider data, so keys need
# shaken:read (sessions pass). Consortium only: verdicts name providers and numbers.
staff_auth = ApiKeyAuth(scope="shaken:read", kinds=("consortium",))


def verification_json(v: ShakenVerification) -> dict[str, Any]:
    return {
        "report_id": v.report_id,
        "call_started_at": v.call_started_at.isoformat(),
        "verified": v.verified,
        "outcome": v.outcome,
        "sip_code": v.sip_code,
        "failed_layer": v.failed_layer,
        "reason": v.reason,
        "layers": v.layers,
        "attest": v.attest,
        "origid": v.origid,
        "orig_tn": v.orig_tn,
        "dest_tn": v.dest_tn,
        "iat": v.iat,
        "delta_seconds": v.delta_seconds,
        "signer": {"spc": v.signer_spc, "provider_id": v.signer_provider_id, "source": v.signer_source},
        "certificate": {"fingerprint": v.cert_fingerprint, "subject": v.cert_subject, "issuer": v.cert_issuer, "x5u": v.x5u},
    }


@router.get("/shaken/verifications", auth=staff_auth)
def list_verifications(
    request: HttpRequest, spc: str = "", provider: str = "", outcome: str = "", attest: str = "", q: str = "", cursor: str | None = None, limit: int = 100
) -> dict[str, Any]:
    org = principal_of(request).organisation
    if outcome and outcome not in ("verified", "failed", *ShakenVerification.Outcome.values):
        raise ApiProblem(400, "Bad filter", f"outcome {outcome!r} is not one of verified, failed, {', '.join(ShakenVerification.Outcome.values)}",
                         errors=[{"line": None, "field": "outcome", "reason": "unknown value"}])
    rows, nxt = page(queries.search(org, spc=spc, provider=provider, outcome=outcome, attest=attest, q=q), cursor, limit)
    return page_response([verification_json(v) for v in rows], nxt)


@router.get("/shaken/verifications/{report_id}", auth=staff_auth)
def get_verification(request: HttpRequest, report_id: int) -> dict[str, Any]:
    v = queries.for_report(principal_of(request).organisation, report_id)
    if v is None:
        raise ApiProblem(404, "Not found", "no verification for this report")
    return verification_json(v)


class VerifyIn(Schema):
    identity: str
    call_time: datetime
    orig: str | None = None
    dest: str | None = None
    date: str | None = None


@router.post("/shaken/verify", auth=staff_auth)
def verify(request: HttpRequest, body: VerifyIn) -> dict[str, Any]:
    if len(body.identity) > 200_000:
        raise ApiProblem(413, "Too large", "identity is longer than 200,000 characters", errors=[{"line": None, "field": "identity", "reason": "too long"}])
    verdict = services.verify_identity(body.identity, call_time=body.call_time, orig=body.orig, dest=body.dest, date_header=body.date)
    return verdict.to_dict()

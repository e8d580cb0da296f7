"""STIX 2.1 export of alerts for threat-intelligence teams.

STIX 2.1 has no phone-number observable, so the bundle carries an extension definition for
a new SCO, `x-robotrace-phone-number` (value: E.164), per STIX 2.1 §7.3 (extension
definitions) with `extension_type: new-sco`; every phone-number object names that
definition in its `extensions`. Ids are deterministic (UUIDv5) so re-exports deduplicate in
the receiving platform. Everything is marked TLP:AMBER.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import stix2
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from stix2.properties import StringProperty
from stix2.v21 import TLP_AMBER

from robotrace.alerts.models import Alert

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://robotrace.example/stix")
PHONE_TYPE = "x-robotrace-phone-number"
EXTENSION_ID = f"extension-definition--{uuid.uuid5(NAMESPACE, PHONE_TYPE + '/1.0.0')}"
PRODUCER_ID = f"identity--{uuid.uuid5(NAMESPACE, 'producer')}"
# Fixed creation time of the extension definition and producer identity: they never change,
# so their ids and contents stay identical across exports.
DEFINED_AT = "2026-01-01T00:00:00.000Z"
# Indicators and observations per alert (the most reported numbers first).
PER_ALERT = 25

PHONE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "x-robotrace-phone-number",
    "title": "x-robotrace-phone-number",
    "description": "A telephone number seen in a robocall campaign (caller ID or callback number), in E.164 form.",
    "type": "object",
    "allOf": [{"$ref": "https://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/master/schemas/common/cyber-observable-core.json"}],
    "properties": {
        "type": {"const": PHONE_TYPE},
        "id": {"type": "string", "pattern": f"^{PHONE_TYPE}--"},
        "value": {"type": "string", "pattern": r"^\+[1-9][0-9]{6,14}$", "description": "E.164 telephone number"},
    },
    "required": ["type", "id", "value"],
}


@stix2.v21.CustomObservable(PHONE_TYPE, [("value", StringProperty(required=True))], extension_name=EXTENSION_ID, id_contrib_props=["value"])
class PhoneNumber:
    """The new SCO; its id is derived from `value` (UUIDv5), as STIX 2.1 asks of SCOs."""

    if TYPE_CHECKING:  # what CustomObservable gives the class, for the type checker only
        id: str
        value: str

        def __init__(self, **kwargs: Any) -> None: ...


def schema_url() -> str:
    return settings.SITE_URL + reverse("alerts:stix_schema")


def _ts(value: str | datetime | None) -> datetime:
    """Evidence keeps ISO strings with offsets; stix2 wants datetimes (it writes them as UTC)."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value) if value else timezone.now()


def _sid(kind: str, key: str) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, key)}"


def build_bundle(alerts: Iterable[Alert]) -> stix2.v21.Bundle:
    producer = stix2.v21.Identity(
        id=PRODUCER_ID,
        created=DEFINED_AT,
        modified=DEFINED_AT,
        name="Robotrace",
        identity_class="organization",
        description="Open robocall traceback platform (the traceback consortium's portal).",
        object_marking_refs=[TLP_AMBER],
    )
    extension = stix2.v21.ExtensionDefinition(
        id=EXTENSION_ID,
        created=DEFINED_AT,
        modified=DEFINED_AT,
        created_by_ref=PRODUCER_ID,
        name=PHONE_TYPE,
        description="A telephone number (E.164) as a STIX Cyber-observable Object; STIX 2.1 defines none.",
        schema=schema_url(),
        version="1.0.0",
        extension_types=["new-sco"],
        object_marking_refs=[TLP_AMBER],
    )
    objects: dict[str, Any] = {TLP_AMBER.id: TLP_AMBER, producer.id: producer, extension.id: extension}
    for alert in alerts:
        # Everything derived from an alert is Robotrace's, dated when the alert was raised.
        made = {"created": alert.created_at, "modified": alert.created_at, "created_by_ref": PRODUCER_ID}
        ev = alert.evidence or {}
        c = ev.get("campaign") or {}
        first = _ts(ev.get("first_seen") or alert.created_at)
        last = _ts(ev.get("last_seen") or first)
        campaign_id = _sid("campaign", f"campaign/{alert.campaign_id}")
        if campaign_id not in objects:
            objects[campaign_id] = stix2.v21.Campaign(
                id=campaign_id,
                **made,
                name=f"{c.get('ref', alert.campaign_id)} {c.get('name', '')}".strip(),
                description=f"Robocall campaign, category {c.get('category_label', c.get('category', 'unknown'))}. "
                f"{ev.get('reports_in_jurisdiction', 0)} reports in {alert.agency.name}'s jurisdiction when alerted.",
                first_seen=first,
                last_seen=max(last, first),
                objective="Unlawful robocalls",
                external_references=[{"source_name": "robotrace", "external_id": c.get("ref", ""), "url": settings.SITE_URL + reverse("alerts:campaign", args=[alert.campaign_id])}],
                object_marking_refs=[TLP_AMBER],
            )
        numbers = [("caller ID", n) for n in (ev.get("caller_ids") or [])[:PER_ALERT]]
        numbers += [("callback number", n) for n in (ev.get("callback_numbers") or [])[:PER_ALERT]]
        for role, item in numbers:
            number = item.get("number", "")
            if not number.startswith("+"):
                continue
            phone = PhoneNumber(value=number, object_marking_refs=[TLP_AMBER])
            objects.setdefault(phone.id, phone)
            obs_id = _sid("observed-data", f"obs/{alert.pk}/{role}/{number}")
            objects[obs_id] = stix2.v21.ObservedData(
                id=obs_id,
                **made,
                first_observed=first,
                last_observed=max(last, first),
                number_observed=max(int(item.get("reports", 1)), 1),
                object_refs=[phone.id],
                labels=[role.replace(" ", "-")],
                object_marking_refs=[TLP_AMBER],
                allow_custom=True,
            )
            ind_id = _sid("indicator", f"indicator/{alert.campaign_id}/{role}/{number}")
            if ind_id not in objects:
                objects[ind_id] = stix2.v21.Indicator(
                    id=ind_id,
                    **made,
                    name=f"{role.capitalize()} {number}",
                    description=f"{role.capitalize()} used by robocall campaign {c.get('ref', '')}.",
                    indicator_types=["malicious-activity"],
                    pattern=f"[{PHONE_TYPE}:value = '{number}']",
                    pattern_type="stix",
                    valid_from=first,
                    object_marking_refs=[TLP_AMBER],
                )
                rel_id = _sid("relationship", f"rel/{ind_id}/{campaign_id}")
                objects[rel_id] = stix2.v21.Relationship(
                    id=rel_id,
                    **made,
                    relationship_type="indicates",
                    source_ref=ind_id,
                    target_ref=campaign_id,
                    object_marking_refs=[TLP_AMBER],
                )
    return stix2.v21.Bundle(objects=list(objects.values()), allow_custom=True)


def export_json(alerts: Iterable[Alert]) -> str:
    return build_bundle(alerts).serialize(pretty=False)

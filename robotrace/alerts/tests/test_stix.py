from __future__ import annotations

import json

import stix2

from robotrace.alerts import services, stix
from robotrace.alerts.models import Alert
from robotrace.alerts.tests.conftest import add_reports, make_campaign, make_event
from robotrace.conftest import bearer


def _alerts(world):
    services.create_subscription(actor=world.dana, organisation=world.agency_a, data={"name": "NC", "states": ["NC"], "min_reports": 1})
    c = make_campaign()
    add_reports(c, world.reporter_a, 4, caller="+19195550111", callbacks=["+18885550123"])
    add_reports(c, world.reporter_a, 2, caller="+17045550122")
    services.process_event(event_id=make_event(c, "volume").pk)
    services.process_event(event_id=make_event(c, "surge").pk)
    return list(Alert.objects.for_org(world.agency_a))


def _check_bundle(text: str) -> dict:
    bundle = stix2.parse(text, allow_custom=True)
    assert bundle.type == "bundle"
    data = json.loads(text)
    by_type: dict[str, list] = {}
    for obj in data["objects"]:
        by_type.setdefault(obj["type"], []).append(obj)
    [ext] = by_type["extension-definition"]
    assert ext["extension_types"] == ["new-sco"] and ext["name"] == stix.PHONE_TYPE and ext["schema"]
    phones = by_type[stix.PHONE_TYPE]
    assert {p["value"] for p in phones} == {"+19195550111", "+17045550122", "+18885550123"}
    for p in phones:
        assert p["extensions"] == {ext["id"]: {"extension_type": "new-sco"}}
    [marking] = by_type["marking-definition"]
    assert marking["id"] == stix2.v21.TLP_AMBER.id
    for obj in data["objects"]:
        if obj["type"] != "marking-definition":
            assert obj["object_marking_refs"] == [marking["id"]], obj["type"]
    assert by_type["identity"][0]["identity_class"] == "organization"
    assert len(by_type["campaign"]) == 1, "two alerts on one campaign give one campaign object"
    assert any("[x-robotrace-phone-number:value = '+19195550111']" == i["pattern"] for i in by_type["indicator"])
    assert all(r["relationship_type"] == "indicates" for r in by_type["relationship"])
    refs = {ref for od in by_type["observed-data"] for ref in od["object_refs"]}
    assert refs == {p["id"] for p in phones}
    return by_type


def _validate(text: str) -> None:
    from stix2validator import ValidationOptions, validate_string

    result = validate_string(text, ValidationOptions(version="2.1", strict=False))
    assert result.is_valid, [str(e) for o in result.object_results for e in o.errors]


def test_the_stix_export_parses_and_validates(world, as_user):
    _alerts(world)
    r = as_user(world.dana).get("/alerts/export.stix.json")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/stix+json")
    text = r.content.decode()
    _check_bundle(text)
    _validate(text)


def test_the_stix_api_returns_the_same_bundle_shape(world, client, api_key):
    _alerts(world)
    r = client.get("/api/v1/alerts/stix", **bearer(api_key(world.agency_a, ["alerts:read"])))
    assert r.status_code == 200
    _check_bundle(r.content.decode())


def test_stix_ids_are_stable_across_exports(world):
    alerts = _alerts(world)
    a = json.loads(stix.export_json(alerts))
    b = json.loads(stix.export_json(alerts))
    assert sorted(o["id"] for o in a["objects"]) == sorted(o["id"] for o in b["objects"])


def test_an_agency_exports_only_its_own_alerts(world, as_user):
    _alerts(world)
    r = as_user(world.omar).get("/alerts/export.stix.json")
    data = json.loads(r.content)
    assert not [o for o in data["objects"] if o["type"] in ("campaign", stix.PHONE_TYPE)]


def test_the_extension_schema_is_served(client):
    r = client.get("/alerts/stix/x-robotrace-phone-number.schema.json")
    assert r.status_code == 200 and r.json()["title"] == stix.PHONE_TYPE

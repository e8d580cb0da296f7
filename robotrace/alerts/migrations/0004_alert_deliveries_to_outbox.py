"""Alert deliveries and their attempt log move into the outbox (one delivery model for
everything the platform sends). The states are the same; a webhook's body and an e-mail's
subject and text, built at send time until now, are written as they would have been sent.
Reversing copies them back (with their attempts) and takes them out of the outbox."""

from datetime import timedelta

from django.conf import settings
from django.db import migrations

KIND = "alerts.endpoint"
ABOUT = "alerts.alert"
LEASE_SECONDS = 300


def _url(alert_id):
    return f"{settings.SITE_URL}/alerts/{alert_id}/"


def _ref(alert_id):
    return f"AL-{alert_id:06d}"


def _payload(alert):
    return {
        "type": "alert.created",
        "timestamp": alert.created_at.isoformat(),
        "data": {
            "id": alert.pk, "ref": _ref(alert.pk), "url": _url(alert.pk), "event_kind": alert.event_kind,
            "subscription": alert.subscription_name, "campaign": (alert.evidence or {}).get("campaign", {}),
            "evidence": {k: v for k, v in (alert.evidence or {}).items() if k != "campaign"},
        },
    }


def _email(alert):
    body = (
        "A new alert is waiting for your agency in Robotrace.\n\n"
        f"Open it (sign-in required): {_url(alert.pk)}\n\n"
        "This message deliberately contains no case data.\n"
    )
    return {"subject": f"Robotrace alert {_ref(alert.pk)}", "body": body}


def to_outbox(apps, schema_editor):
    Old = apps.get_model("alerts", "AlertDelivery")
    OldAttempt = apps.get_model("alerts", "AlertDeliveryAttempt")
    Delivery = apps.get_model("outbox", "Delivery")
    Attempt = apps.get_model("outbox", "Attempt")
    rows = list(Old._base_manager.select_related("alert", "endpoint").order_by("id"))
    if not rows:
        return
    last_at = {}
    for delivery_id, at in OldAttempt._base_manager.order_by("delivery_id", "number").values_list("delivery_id", "at"):
        last_at[delivery_id] = at
    new = []
    for d in rows:
        finished = d.status in ("delivered", "gave_up")
        due = None if finished else d.next_attempt_at
        if d.status == "sending":
            due = (d.claimed_at or d.created_at) + timedelta(seconds=LEASE_SECONDS)
        new.append(Delivery(
            organisation_id=d.alert.agency_id, channel=d.channel, topic="alert.created", object_type=ABOUT, object_id=d.alert_id,
            endpoint_kind=KIND if d.channel == "webhook" else "", endpoint_id=d.endpoint_id if d.channel == "webhook" else None,
            url=d.endpoint.url if d.endpoint is not None else "", recipients=list(d.recipients or []),
            payload=_payload(d.alert) if d.channel == "webhook" else _email(d.alert), msg_id=d.msg_id, status=d.status,
            attempts=d.attempt, due_at=due, last_status_code=d.response_code, last_error=d.error, created_at=d.created_at,
            delivered_at=d.delivered_at, gave_up_at=last_at.get(d.pk, d.created_at) if d.status == "gave_up" else None,
        ))
    Delivery._base_manager.bulk_create(new, batch_size=1000)
    new_id = dict(Delivery._base_manager.filter(msg_id__in=[d.msg_id for d in rows]).values_list("msg_id", "id"))
    by_old = {d.pk: new_id[d.msg_id] for d in rows}
    Attempt._base_manager.bulk_create([
        Attempt(delivery_id=by_old[a.delivery_id], number=a.number, at=a.at, ok=a.ok, status_code=a.response_code, error=a.error,
                duration_ms=a.duration_ms)
        for a in OldAttempt._base_manager.order_by("id").iterator(chunk_size=2000)
    ], batch_size=1000)


def from_outbox(apps, schema_editor):
    Old = apps.get_model("alerts", "AlertDelivery")
    OldAttempt = apps.get_model("alerts", "AlertDeliveryAttempt")
    Alert = apps.get_model("alerts", "Alert")
    Endpoint = apps.get_model("alerts", "WebhookEndpoint")
    Delivery = apps.get_model("outbox", "Delivery")
    Attempt = apps.get_model("outbox", "Attempt")
    rows = list(Delivery._base_manager.filter(object_type=ABOUT, object_id__in=Alert._base_manager.values("id")).order_by("id"))
    endpoints = set(Endpoint._base_manager.values_list("id", flat=True))
    old = [
        Old(alert_id=d.object_id, channel=d.channel, endpoint_id=d.endpoint_id if d.endpoint_id in endpoints else None,
            recipients=d.recipients, msg_id=d.msg_id, attempt=d.attempts, status=d.status, response_code=d.last_status_code,
            error=d.last_error, next_attempt_at=d.due_at if d.status in ("pending", "retrying") else None,
            claimed_at=d.due_at if d.status == "sending" else None, delivered_at=d.delivered_at)
        for d in rows
    ]
    Old._base_manager.bulk_create(old, batch_size=1000)
    old_id = {}
    for d in rows:  # created_at is auto_now_add: set it back afterwards
        pk = Old._base_manager.filter(msg_id=d.msg_id).values_list("id", flat=True).first()
        Old._base_manager.filter(pk=pk).update(created_at=d.created_at)
        old_id[d.pk] = pk
    OldAttempt._base_manager.bulk_create([
        OldAttempt(delivery_id=old_id[a.delivery_id], number=a.number, at=a.at, ok=a.ok, response_code=a.status_code, error=a.error,
                   duration_ms=a.duration_ms)
        for a in Attempt._base_manager.filter(delivery_id__in=list(old_id)).order_by("id")
    ], batch_size=1000)
    Delivery._base_manager.filter(id__in=list(old_id)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0003_alert_origins"),
        ("outbox", "0001_deliveries"),
    ]

    operations = [migrations.RunPython(to_outbox, from_outbox)]

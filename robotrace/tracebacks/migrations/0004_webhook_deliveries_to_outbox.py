"""Hop-request webhook deliveries move into the outbox (one delivery model for everything
the platform sends). Their states map onto the outbox's: a pending row that has been tried
is "retrying", a "failed" one "gave_up". The old rows had no attempt log. Reversing copies
the hop webhooks back and takes them out of the outbox (hop e-mails, which the old model
never held, stay)."""

from django.db import migrations

KIND = "providers.hop_webhook"
TO_OUTBOX = {"pending": "pending", "sending": "sending", "delivered": "delivered", "failed": "gave_up"}
FROM_OUTBOX = {"pending": "pending", "retrying": "pending", "sending": "sending", "delivered": "delivered", "gave_up": "failed"}


def to_outbox(apps, schema_editor):
    Old = apps.get_model("tracebacks", "WebhookDelivery")
    Delivery = apps.get_model("outbox", "Delivery")
    Provider = apps.get_model("providers", "Provider")
    old = Old._base_manager.order_by("id")
    org_of = dict(Provider._base_manager.filter(id__in=old.values("provider_id")).values_list("id", "organisation_id"))
    batch = []
    for d in old.iterator(chunk_size=2000):
        status = TO_OUTBOX.get(d.status, "pending")
        if status == "pending" and d.attempts:
            status = "retrying"
        finished = status in ("delivered", "gave_up")
        batch.append(Delivery(
            organisation_id=org_of.get(d.provider_id), channel="webhook", topic=d.event_type or "hop.requested",
            object_type="tracebacks.hop" if d.hop_id else "", object_id=d.hop_id, endpoint_kind=KIND, endpoint_id=d.provider_id,
            url=d.url, payload=d.payload, msg_id=d.msg_id, status=status, attempts=d.attempts, due_at=None if finished else d.due_at,
            last_status_code=d.last_status_code, last_error=d.last_error, created_at=d.created_at, delivered_at=d.delivered_at,
            # When the last claim's lease ran out: the nearest the old row comes to when it gave up.
            gave_up_at=d.due_at if status == "gave_up" else None,
        ))
        if len(batch) >= 1000:
            Delivery._base_manager.bulk_create(batch)
            batch = []
    Delivery._base_manager.bulk_create(batch)


def from_outbox(apps, schema_editor):
    Old = apps.get_model("tracebacks", "WebhookDelivery")
    Delivery = apps.get_model("outbox", "Delivery")
    Hop = apps.get_model("tracebacks", "Hop")
    Provider = apps.get_model("providers", "Provider")
    rows = Delivery._base_manager.filter(channel="webhook", endpoint_kind=KIND, endpoint_id__isnull=False).order_by("id")
    providers = set(Provider._base_manager.filter(id__in=rows.values("endpoint_id")).values_list("id", flat=True))
    hops = set(Hop._base_manager.filter(id__in=rows.filter(object_type="tracebacks.hop").values("object_id")).values_list("id", flat=True))
    batch, moved, created_at = [], [], {}
    for d in rows.iterator(chunk_size=2000):
        if d.endpoint_id not in providers:
            continue
        batch.append(Old(
            provider_id=d.endpoint_id, hop_id=d.object_id if d.object_id in hops else None, event_type=d.topic, msg_id=d.msg_id,
            url=d.url, payload=d.payload, status=FROM_OUTBOX.get(d.status, "pending"), attempts=d.attempts,
            due_at=d.due_at or d.gave_up_at or d.delivered_at or d.created_at, last_status_code=d.last_status_code,
            last_error=d.last_error[:300], delivered_at=d.delivered_at,
        ))
        moved.append(d.id)
        created_at[d.msg_id] = d.created_at
    Old._base_manager.bulk_create(batch, batch_size=1000)
    for msg_id, at in created_at.items():  # created_at is auto_now_add: set it back afterwards
        Old._base_manager.filter(msg_id=msg_id).update(created_at=at)
    Delivery._base_manager.filter(id__in=moved).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tracebacks", "0003_traceback_events_handled_by"),
        ("outbox", "0001_deliveries"),
        ("providers", "0001_initial"),
    ]

    operations = [migrations.RunPython(to_outbox, from_outbox)]

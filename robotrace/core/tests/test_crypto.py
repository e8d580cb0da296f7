"""Secrets sealed at rest (AES-256-GCM): they open only with a configured key, in the column
they were sealed for, untampered; keys rotate."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from robotrace.core import crypto


def test_a_sealed_value_opens_to_the_same_text_and_does_not_show_it() -> None:
    token = crypto.seal("whsec_top-secret", context="providers.provider.webhook_secret")
    assert token.startswith(crypto.PREFIX) and "top-secret" not in token
    assert crypto.unseal(token, context="providers.provider.webhook_secret") == "whsec_top-secret"
    assert crypto.seal("whsec_top-secret", context="x") != crypto.seal("whsec_top-secret", context="x")  # fresh nonce


def test_it_refuses_another_column_a_tampered_value_and_an_unknown_key() -> None:
    token = crypto.seal("whsec_1", context="alerts.webhookendpoint.secret")
    with pytest.raises(crypto.SealError):
        crypto.unseal(token, context="providers.provider.webhook_secret")
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    with pytest.raises(crypto.SealError):
        crypto.unseal(flipped, context="alerts.webhookendpoint.secret")
    with override_settings(FIELD_ENCRYPTION_KEYS=crypto.new_key()), pytest.raises(crypto.SealError):
        crypto.unseal(token, context="alerts.webhookendpoint.secret")


def test_keys_rotate_the_first_seals_and_every_one_opens() -> None:
    old, new = crypto.new_key(), crypto.new_key()
    with override_settings(FIELD_ENCRYPTION_KEYS=old):
        sealed_old = crypto.seal("whsec_old", context="c")
    with override_settings(FIELD_ENCRYPTION_KEYS=f"{new},{old}"):
        assert crypto.unseal(sealed_old, context="c") == "whsec_old"
        sealed_new = crypto.seal("whsec_new", context="c")
    with override_settings(FIELD_ENCRYPTION_KEYS=new):
        assert crypto.unseal(sealed_new, context="c") == "whsec_new"
        with pytest.raises(crypto.SealError):
            crypto.unseal(sealed_old, context="c")


def test_a_bad_key_setting_names_the_key() -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=f"{crypto.new_key()},c2hvcnQ"), pytest.raises(ImproperlyConfigured, match="key 2 is 5 bytes"):
        crypto.seal("x", context="c")


def test_clear_text_from_before_sealing_reads_as_it_is() -> None:
    assert crypto.unseal("whsec_legacy", context="c") == "whsec_legacy"


@pytest.mark.django_db
def test_reseal_all_moves_every_stored_secret_to_the_first_key(world) -> None:
    from django.db import connection

    from robotrace.alerts import services as alerts
    from robotrace.providers.models import Provider

    old, new = crypto.new_key(), crypto.new_key()
    with override_settings(FIELD_ENCRYPTION_KEYS=old):
        created = alerts.create_endpoint(actor=world.dana, organisation=world.agency_a, url="https://intel.example.gov/hook")
        Provider.objects.create(name="Sealed Telecom", webhook_url="https://x.example/h", webhook_secret="whsec_p")
    with override_settings(FIELD_ENCRYPTION_KEYS=f"{new},{old}"):
        counts = crypto.reseal_all()
    assert counts["alerts.webhookendpoint.secret"] == 1 and counts["providers.provider.webhook_secret"] == 1
    with override_settings(FIELD_ENCRYPTION_KEYS=new):
        created.endpoint.refresh_from_db()
        assert created.endpoint.secret == created.secret
        assert Provider.objects.get(name="Sealed Telecom").webhook_secret == "whsec_p"
    with connection.cursor() as cur:
        cur.execute("SELECT secret FROM alerts_webhookendpoint")
        assert cur.fetchone()[0].startswith(crypto.PREFIX)


@pytest.mark.django_db
def test_the_sealing_migration_step_seals_clear_rows_and_reverses() -> None:
    from django.apps import apps
    from django.db import connection

    from robotrace.core.fields import seal_existing_rows
    from robotrace.providers.models import Provider

    class Editor:  # what the step asks of a schema editor
        quote_name = staticmethod(connection.ops.quote_name)

        @staticmethod
        def execute(sql: str, params: list[Any]) -> None:
            with connection.cursor() as cur:
                cur.execute(sql, params)

    provider = Provider.objects.create(name="Old Telecom", webhook_url="https://x.example/h")

    def raw() -> str:
        with connection.cursor() as cur:
            cur.execute("SELECT webhook_secret FROM providers_provider WHERE id = %s", [provider.pk])
            return str(cur.fetchone()[0])

    with connection.cursor() as cur:  # a row from before the column was sealed
        cur.execute("UPDATE providers_provider SET webhook_secret = 'whsec_clear' WHERE id = %s", [provider.pk])
    step = seal_existing_rows("providers", "provider", "webhook_secret")
    step.code(apps, Editor())
    assert raw().startswith(crypto.PREFIX)
    provider.refresh_from_db()
    assert provider.webhook_secret == "whsec_clear"
    step.reverse_code(apps, Editor())
    assert raw() == "whsec_clear"

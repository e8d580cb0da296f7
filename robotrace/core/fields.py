"""Model fields shared by the apps."""

from __future__ import annotations

from typing import Any

from django.db import models

from robotrace.core import crypto


class SealedCharField(models.CharField):
    """Text stored sealed (AES-256-GCM, `core.crypto`) and read back in clear.

    For secrets the platform must use again, such as webhook signing secrets. Every write
    uses a fresh nonce, so the column cannot be searched by value; only "" (not set) is
    stored as it is, so `filter(field="")` still works. `max_length` is the column's: a
    clear value of n characters takes about 4/3 n + 50.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 255)
        super().__init__(*args, **kwargs)

    @property
    def context(self) -> str:
        # The associated data: a value sealed for one column does not open in another.
        return f"{self.model._meta.label_lower}.{self.name}"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value:
            return value
        return crypto.unseal(value, context=self.context)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if not value or crypto.is_sealed(value):
            return value
        return crypto.seal(value, context=self.context)


def reseal_rows(model: Any, field_name: str) -> int:
    """Read every set value of a sealed column (the field opens it, or passes clear text
    through) and write it back (the field seals it with the first key). Rows rewritten."""
    done = 0
    for pk, value in model._base_manager.exclude(**{field_name: ""}).values_list("pk", field_name).iterator():
        model._base_manager.filter(pk=pk).update(**{field_name: value})
        done += 1
    return done


def seal_existing_rows(app_label: str, model_name: str, field_name: str) -> Any:
    """The data step of the migration that makes a clear-text column a SealedCharField (run it
    after the AlterField): rows written before hold the secret in clear, which the historical
    field reads as it is and seals on the way back. Reversed, it writes them back in clear
    (the UPDATE bypasses the field, which would seal them again)."""
    from django.db import migrations

    def forwards(apps: Any, schema_editor: Any) -> None:
        reseal_rows(apps.get_model(app_label, model_name), field_name)

    def backwards(apps: Any, schema_editor: Any) -> None:
        model = apps.get_model(app_label, model_name)
        table, column = schema_editor.quote_name(model._meta.db_table), schema_editor.quote_name(field_name)
        for pk, value in model._base_manager.exclude(**{field_name: ""}).values_list("pk", field_name).iterator():
            schema_editor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])

    return migrations.RunPython(forwards, backwards)

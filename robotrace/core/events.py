"""Durable events between apps: a table of event rows, a signal after each row commits, and
named subscribers that handle each row once and catch up from the table.

An app that emits events keeps them in a table of its own, written in the transaction of the
change they report, with a JSON list column (`handled_by`) naming the subscribers that have
handled each row. It describes the table with a `Stream` and calls `Stream.announce` once the
row is written: the signal goes out after the commit, so a receiver never sees a row that
could still roll back.

A higher app subscribes with a `Subscriber` (connected in its `AppConfig.ready`):

- the signal path enqueues the subscriber's background work for the new row (a Huey task),
  never raising into the emitter's commit;
- the handler claims the row with `Subscriber.claim`, a conditional UPDATE that adds the
  subscriber's name to `handled_by` in the handler's own transaction: two workers, a retry
  and the catch-up never handle a row twice, and a handler that fails rolls its claim back;
- every minute `catch_up_all` (core.tasks) hands each subscriber the rows it has not
  claimed, oldest first: a crash between the commit and the enqueue, a lost task or a
  worker that was down loses nothing.

A subscriber without a handler ("batch" subscribers, such as a derived table rebuilt on a
timer) asks `newest_unhandled()` and marks what it used with `claim_all(through_id=...)`.

Core imports no app: streams name their table by label ("campaigns.CampaignEvent").
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import NotSupportedError, models, transaction
from django.db.models import BooleanField, F, Func, JSONField
from django.dispatch import Signal
from django.utils.module_loading import import_string

logger = logging.getLogger("robotrace.events")


class _JsonList(Func):
    """An expression over a JSON list column and a string `name`, written for each database
    the markers support: PostgreSQL's jsonb operators take the name as a one-element JSON
    list, SQLite's json functions take it as it is. Subclasses give the two SQL texts, with
    {column} for the column and %s for the name."""

    postgresql_sql: str
    sqlite_sql: str

    def __init__(self, column: str, name: str):
        super().__init__(F(column))
        self.name = name

    def as_sql(
        self, compiler: Any, connection: Any, function: str | None = None, template: str | None = None,
        arg_joiner: str | None = None, **extra_context: Any,
    ) -> Any:
        raise NotSupportedError("event markers need PostgreSQL or SQLite")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        return self.postgresql_sql.format(column=column), [*params, json.dumps([self.name])]

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        return self.sqlite_sql.format(column=column), [*params, self.name]


class _Holds(_JsonList):
    """True when the JSON list column holds the string `name` (PostgreSQL containment, a
    `json_each` probe on SQLite, which has no containment operator)."""

    output_field = BooleanField()
    postgresql_sql = "({column} @> %s::jsonb)"
    sqlite_sql = "EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value = %s)"


class _Append(_JsonList):
    """The JSON list column with `name` appended, computed by the database in the UPDATE."""

    output_field = JSONField()
    postgresql_sql = "({column} || %s::jsonb)"
    sqlite_sql = "json_insert({column}, '$[#]', %s)"


@dataclass(frozen=True, eq=False)
class Stream:
    """One durable event table.

    `model` is the table's model label; `kinds`, when given, are the rows of the table that
    are events (a timeline table may hold other rows too); `fields` are the columns a
    subscriber receives, as a plain dict, when it claims a row."""

    model: str
    signal: Signal
    kinds: tuple[str, ...] = ()
    fields: tuple[str, ...] = ("id", "kind")
    marker: str = "handled_by"
    kind_field: str = "kind"

    def table(self) -> type[models.Model]:
        return apps.get_model(self.model)

    def rows(self, *, kinds: Iterable[str] = ()) -> models.QuerySet[Any]:
        """The event rows (of `kinds`, else of the stream's kinds), unscoped: subscribers do
        system work for every organisation."""
        objects: Any = self.table().objects  # type: ignore[attr-defined]  # every event table keeps the default name
        qs = objects.unscoped(reason=f"events: {self.model} subscribers") if hasattr(objects, "unscoped") else objects.all()
        wanted = tuple(kinds) or self.kinds
        return qs.filter(**{f"{self.kind_field}__in": wanted}) if wanted else qs

    def announce(self, event_id: int, **data: Any) -> None:
        """Send the stream's signal (`event_id` and `data` as keyword arguments) once the
        caller's transaction commits; at once outside a transaction."""
        model = self.table()
        transaction.on_commit(lambda: self.signal.send(sender=model, event_id=event_id, **data))

    def holds(self, name: str) -> Func:
        """A filter expression: the row was handled by subscriber `name`."""
        return _Holds(self.marker, name)


@dataclass(frozen=True, eq=False)
class Subscriber:
    """One consumer of a stream, known by `name` in the rows' `handled_by` lists.

    `handle` (a callable or its dotted path) processes one row: called as
    `handle(event_id=...)`, it claims the row with `claim` in its own transaction and does
    its work there. `enqueue` (a Huey task or its path, called with the event id) runs it in
    the background for the signal path. `kinds` narrows the stream to the rows this
    subscriber consumes; `signal_skips` names kinds whose signal need not enqueue anything
    (the catch-up still claims them). `window`, when set, limits the catch-up to the newest
    `window` rows of the stream."""

    stream: Stream
    name: str
    handle: Callable[..., Any] | str | None = None
    enqueue: Callable[[int], Any] | str | None = None
    kinds: tuple[str, ...] = ()
    signal_skips: Callable[[str], bool] | None = None
    window: int | None = None

    def rows(self) -> models.QuerySet[Any]:
        return self.stream.rows(kinds=self.kinds)

    def claim(self, event_id: int, *, again: bool = False) -> dict[str, Any] | None:
        """Mark the row handled by this subscriber and return its `fields`, or None when it
        is gone, not one of this subscriber's kinds, or already handled (unless `again`:
        then an already handled row is returned too, locked, for re-evaluation).

        Call it inside the transaction that does the work: the mark commits or rolls back
        with it, and the row stays locked until then so a second claimer waits and finds it
        handled."""
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("claim an event inside the transaction that handles it")
        claimed = self.rows().filter(pk=event_id).exclude(self.stream.holds(self.name)).update(
            **{self.stream.marker: _Append(self.stream.marker, self.name)}
        )
        if not claimed and not again:
            return None
        qs = self.rows().filter(pk=event_id)
        if not claimed:
            qs = qs.select_for_update()
        row = qs.values(*self.stream.fields).first()
        return dict(row) if row is not None else None

    def unhandled(self) -> models.QuerySet[Any]:
        qs = self.rows().exclude(self.stream.holds(self.name))
        if self.window:
            oldest = list(self.rows().order_by("-pk").values_list("pk", flat=True)[self.window - 1 : self.window])
            if oldest:
                qs = qs.filter(pk__gte=oldest[0])
        return qs

    def unhandled_ids(self, *, limit: int = 500) -> list[int]:
        """Rows this subscriber has not handled, oldest first."""
        return list(self.unhandled().order_by("pk").values_list("pk", flat=True)[:limit])

    def catch_up(self, *, limit: int = 500) -> list[Any]:
        """Handle every row the signal path missed; the handlers' results, in order."""
        if self.handle is None:
            return []
        handle = _resolve(self.handle)
        return [handle(event_id=pk) for pk in self.unhandled_ids(limit=limit)]

    def newest_unhandled(self) -> int | None:
        """For batch subscribers: the id of the newest row not yet handled, or None."""
        return self.unhandled().order_by("-pk").values_list("pk", flat=True).first()

    def claim_all(self, *, through_id: int) -> int:
        """For batch subscribers: mark every unhandled row up to `through_id` handled, in one
        UPDATE. Returns how many rows it marked."""
        return self.unhandled().filter(pk__lte=through_id).update(**{self.stream.marker: _Append(self.stream.marker, self.name)})

    def connect(self) -> None:
        """Subscribe: the signal path (when there is an `enqueue`) and the periodic catch-up."""
        _SUBSCRIBERS[(self.stream.model, self.name)] = self
        if self.enqueue is not None:
            self.stream.signal.connect(self._received, weak=False, dispatch_uid=f"events:{self.stream.model}:{self.name}")

    def _received(self, sender: Any, event_id: int, kind: str = "", **kwargs: Any) -> None:
        if kind and self.kinds and kind not in self.kinds:
            return
        if kind and self.signal_skips is not None and self.signal_skips(kind):
            return  # the periodic catch-up marks it handled; nothing to do now
        try:
            _resolve(self.enqueue)(event_id)  # type: ignore[arg-type]  # _received is connected only when enqueue is set
        except Exception:
            # Never break the emitter's commit: the row stays unclaimed and the catch-up takes it.
            logger.exception("%s: could not enqueue %s event %s; the catch-up will", self.name, self.stream.model, event_id)


_SUBSCRIBERS: dict[tuple[str, str], Subscriber] = {}


def _resolve(target: Callable[..., Any] | str) -> Callable[..., Any]:
    return import_string(target) if isinstance(target, str) else target


def subscribers() -> list[Subscriber]:
    return list(_SUBSCRIBERS.values())


def catch_up_all(*, limit: int = 500) -> dict[str, int]:
    """Run every connected subscriber's catch-up; one failing does not stop the others.
    Returns the rows each one handled (by "stream/name")."""
    done: dict[str, int] = {}
    for sub in subscribers():
        if sub.handle is None:
            continue
        try:
            done[f"{sub.stream.model}/{sub.name}"] = len(sub.catch_up(limit=limit))
        except Exception:
            logger.exception("%s: catch-up of %s failed; next minute retries", sub.name, sub.stream.model)
    return done

"""Organisation scoping that fails closed.

Every organisation-owned model uses `ScopedManager` as its default manager. A plain
`Model.objects.all()` raises `ScopeError`; code must say whose rows it wants with
`for_org(org)`, or bypass the scope with `unscoped(reason=...)`, which is logged and leaves
an audit trail of why. Relation traversal from an object that was itself fetched through a
scope (`campaign.reports.all()`) is allowed: the parent already carried the scope.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation

logger = logging.getLogger("robotrace.scoping")

M = TypeVar("M", bound=models.Model)


class ScopeError(RuntimeError):
    """A query on organisation-owned rows ran without saying whose rows it wanted."""


class ScopedQuerySet(models.QuerySet[M], Generic[M]):
    pass


class ScopedManager(models.Manager[M], Generic[M]):
    """Default manager for organisation-owned rows. See the module docstring."""

    def get_queryset(self) -> models.QuerySet[M]:
        # Related managers (`campaign.reports.all()`) are built from the default manager,
        # `all_objects`, so they never reach here: the parent row already carried the scope.
        raise ScopeError(
            f"{self.model.__name__}.objects was queried without a scope; "
            "use .for_org(org) or .unscoped(reason=...)"
        )

    def _base(self) -> models.QuerySet[M]:
        return ScopedQuerySet(self.model, using=self._db)

    def for_org(self, org: Organisation | None) -> models.QuerySet[M]:
        """Rows `org` may see. The consortium (the traceback operator) sees every row."""
        if org is None:
            raise ScopeError(f"{self.model.__name__}: no organisation given")
        if org.is_consortium:
            return self._base()
        scope_q = getattr(self.model, "scope_q", None)
        if scope_q is None:
            raise ScopeError(f"{self.model.__name__} defines no scope_q()")
        return self._base().filter(scope_q(org))

    def unscoped(self, *, reason: str) -> models.QuerySet[M]:
        """Every row, for system work (sweepers, engines, benchmarks). Say why."""
        if not reason or not reason.strip():
            raise ScopeError("unscoped() needs a reason")
        logger.debug("unscoped access to %s: %s", self.model.__name__, reason)
        return self._base()

    # Writes are never a leak; let them through without a scope.
    def create(self, **kwargs: Any) -> M:
        return self._base().create(**kwargs)

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[M]:
        return self._base().bulk_create(objs, *args, **kwargs)

    def get_or_create(self, defaults: Any = None, **kwargs: Any) -> tuple[M, bool]:
        return self._base().get_or_create(defaults=defaults, **kwargs)

    def update_or_create(self, defaults: Any = None, create_defaults: Any = None, **kwargs: Any) -> tuple[M, bool]:
        return self._base().update_or_create(defaults=defaults, create_defaults=create_defaults, **kwargs)


class OrgScoped(models.Model):
    """Abstract base: rows owned by `organisation`. Override `scope_q` for other ownership."""

    scope_field: str = "organisation"

    # Django internals (cascades, unique checks, admin) go through `all_objects`, declared
    # first so it is the default manager even when a subclass's Meta forgets to inherit.
    # Application code never uses it (core/tests/test_scoping.py greps for it).
    all_objects = models.Manager()
    objects: ScopedManager[Any] = ScopedManager()

    class Meta:
        abstract = True
        base_manager_name = "all_objects"
        default_manager_name = "all_objects"

    @classmethod
    def scope_q(cls, org: Organisation) -> Q:
        return Q(**{cls.scope_field: org})

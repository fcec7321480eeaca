"""Celery: every task runs in one transaction with the RLS context of its ``organization_id`` argument."""

from __future__ import annotations

import inspect
import logging

from celery import Task
from celery.exceptions import Retry
from django.db import DEFAULT_DB_ALIAS, transaction

from core.rls.context import _restoring, activate, activate_all_organizations, deactivate

logger = logging.getLogger("core.rls")


# --- Celery --------------------------------------------------------------------------


class TenantTask(Task):
    """Base of every Celery task of the platform (``Celery(task_cls=...)``).

    Each run is one transaction with the unscoped-query guard armed and the RLS
    context set from the task's ``organization_id`` argument; at the end the
    previous context is restored, so a task for organization B that runs right
    after one for A on the same worker (and connection) sees nothing of A.

    * a task without ``organization_id`` sees no tenant rows, unless it declares
      ``all_organizations_reason = "..."`` (``@shared_task(all_organizations_reason=...)``):
      periodic fan-outs that find work in every organization;
    * the transaction commits on success and on ``self.retry()`` (bookkeeping of
      the attempt is kept) and rolls back on any other exception.
    """

    all_organizations_reason: str | None = None

    def _organization_id_argument(self, args, kwargs) -> int | None:
        if "organization_id" in kwargs:
            return kwargs["organization_id"]
        try:
            bound = inspect.signature(self.run).bind_partial(*args, **kwargs)
        except TypeError:
            return None
        return bound.arguments.get("organization_id")

    def __call__(self, *args, **kwargs):
        from core.tenancy import tenant_guard

        organization_id = self._organization_id_argument(args, kwargs)
        retry: Retry | None = None
        with _restoring(DEFAULT_DB_ALIAS), transaction.atomic(), tenant_guard():
            if organization_id is not None:
                activate(int(organization_id))
            elif self.all_organizations_reason:
                activate_all_organizations(reason=f"task {self.name}: {self.all_organizations_reason}")
            else:
                deactivate()
            try:
                return super().__call__(*args, **kwargs)
            except Retry as error:
                retry = error  # leave the block normally: commit the attempt's bookkeeping
        raise retry

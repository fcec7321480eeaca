"""Health endpoints for load balancers, orchestrators and uptime checks (django-health-check).

* ``/health/live/``: the process answers. No database, no broker: a liveness probe must
  not restart web processes because PostgreSQL is down.
* ``/health/ready/``: this process can serve: the database answers (as the application
  role), no migration is left unapplied, and, with a Redis broker, Redis answers and at
  least one Celery worker replies to a ping. ``?format=json`` (or ``Accept:
  application/json``) gives one line per check; any failure answers 500.

Neither endpoint reads tenant data or needs a login; the request middleware opens no
transaction for them (core.middleware).
"""

from __future__ import annotations

import dataclasses
import datetime

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView


@dataclasses.dataclass
class MigrationsApplied(HealthCheck):
    """Every migration of the code that runs is applied (a deploy that skipped ``migrate`` is not ready)."""

    alias: str = DEFAULT_DB_ALIAS

    def run(self):
        connection = connections[self.alias]
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        connection.close_if_unusable_or_obsolete()
        if plan:
            raise ServiceUnavailable(f"{len(plan)} unapplied migration(s)")


def _redis_client():
    from redis.asyncio import Redis

    return Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2)


def readiness_checks() -> list:
    checks: list = ["health_check.checks.Database", MigrationsApplied]
    if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        checks.append(("health_check.contrib.redis.Redis", {"client_factory": _redis_client}))
        checks.append(("health_check.contrib.celery.Ping", {"timeout": datetime.timedelta(seconds=2), "limit": 1}))
    return checks


class _ReadinessView(HealthCheckView):
    @property
    def checks(self):
        return readiness_checks()


# Outside ATOMIC_REQUESTS: opening the request's transaction would itself need the database.
ready = transaction.non_atomic_requests(_ReadinessView.as_view())


@transaction.non_atomic_requests
@never_cache
def live(request):
    return HttpResponse("ok\n", content_type="text/plain; charset=utf-8")

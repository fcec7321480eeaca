"""Metrics a Prometheus server scrapes (docs/operations.md, "Metrics").

* **Requests**: django-prometheus's middleware (``django_http_requests_total_by_view_transport_method``,
  ``django_http_responses_total_by_status_view_method``, latency histograms by view).
* **Tasks**: ``cohort_celery_tasks_total{task, outcome}`` (succeeded, failed, retried,
  rejected, revoked, unregistered) and ``cohort_celery_task_seconds{task}``, counted by Celery signals
  in the worker that ran the task.
* **The outbox**: ``cohort_outbox_messages{outbox, state}``, reminders (``notifications``)
  and webhook deliveries (``webhooks``) in every state that still needs something
  (delivered and cancelled rows are history, not backlog), and
  ``cohort_outbox_oldest_due_seconds{outbox}``, how long the oldest message that is
  due has waited. Read at scrape time with one aggregate query per outbox: counts
  only, no organization, no person.

Web processes answer ``GET /metrics/`` (request and outbox figures), with
``Authorization: Bearer $METRICS_TOKEN``; without a token the endpoint exists only
where ``METRICS_OPEN`` is on (local development). A worker started with
``METRICS_WORKER_PORT`` serves its task figures on that port from its main process.

Several processes of one service (gunicorn workers, Celery's prefork pool) add up
their figures through ``PROMETHEUS_MULTIPROC_DIR`` (one directory per service, emptied
when the service starts: :func:`prepare_multiprocess_directory`).
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from celery import signals
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Count, Min, Q
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

TASKS = Counter("cohort_celery_tasks", "Celery tasks by name and outcome.", ["task", "outcome"])
TASK_SECONDS = Histogram(
    "cohort_celery_task_seconds",
    "Time a Celery task ran, by name.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)


def multiprocess_directory() -> str | None:
    return os.environ.get(MULTIPROCESS_ENV) or None


def prepare_multiprocess_directory() -> None:
    """Empty the shared directory when a service starts: figures of a previous run must not add up."""
    directory = multiprocess_directory()
    if not directory:
        return
    path = Path(directory)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)


def _registry(*, with_outbox: bool) -> CollectorRegistry:
    if multiprocess_directory():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    elif with_outbox:
        registry = CollectorRegistry()
        registry.register(_DefaultRegistry())
    else:
        return REGISTRY
    if with_outbox:
        registry.register(OutboxCollector())
    return registry


class _DefaultRegistry:
    """This process's own metrics, beside the outbox collector in a registry of the scrape."""

    def collect(self):
        yield from REGISTRY.collect()


# --- The outbox, read at scrape time ---------------------------------------------------------


@dataclass(frozen=True)
class Outbox:
    name: str
    model: type
    states: tuple[str, ...]  # the states that still need something
    due_state: str  # rows in this state are due once next_attempt_at has passed


_OUTBOXES: dict[str, Outbox] = {}


def register_outbox(name: str, model: type, *, states, due_state: str) -> None:
    """Called by the app that owns an outbox (its ``AppConfig.ready``): core imports no app."""
    _OUTBOXES[name] = Outbox(name, model, tuple(str(state) for state in states), str(due_state))


def outbox_backlog(now=None) -> dict[str, dict]:
    """``{outbox: {"states": {state: count}, "oldest_due": datetime | None}}`` across organizations.

    The one cross-organization read of this module: aggregate counts for the operator,
    no row and no organization leaves it.
    """
    now = now or timezone.now()
    backlog = {}
    for outbox in _OUTBOXES.values():
        counts = dict.fromkeys(outbox.states, 0)
        rows = (
            outbox.model.objects.dangerously_all_organizations()
            .filter(status__in=outbox.states)
            .values("status")
            .annotate(count=Count("id"), oldest=Min("next_attempt_at", filter=Q(next_attempt_at__lte=now)))
            .order_by()
        )
        oldest = None
        for row in rows:
            counts[row["status"]] = row["count"]
            if row["status"] == outbox.due_state:
                oldest = row["oldest"]
        backlog[outbox.name] = {"states": counts, "oldest_due": oldest}
    return backlog


class OutboxCollector:
    """Reads the backlog at each scrape; ``cohort_outbox_up`` is 0 when the database did not answer."""

    def collect(self):
        now = timezone.now()
        up = GaugeMetricFamily("cohort_outbox_up", "1 when the outbox figures could be read from the database.")
        try:
            with transaction.atomic():
                backlog = outbox_backlog(now)
        except DatabaseError as error:
            logger.warning("metrics: outbox figures unavailable: %s", error)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        messages = GaugeMetricFamily(
            "cohort_outbox_messages", "Outbox rows that still need something, by state.", labels=["outbox", "state"]
        )
        waiting = GaugeMetricFamily(
            "cohort_outbox_oldest_due_seconds",
            "Seconds the oldest message that is due has waited (0 when none is due).",
            labels=["outbox"],
        )
        for name, figures in backlog.items():
            for state, count in figures["states"].items():
                messages.add_metric([name, state], count)
            oldest = figures["oldest_due"]
            waiting.add_metric([name], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        yield messages
        yield waiting


# --- The web endpoint ------------------------------------------------------------------------


def _authorized(request) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return settings.METRICS_OPEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(given.strip().encode(), token.encode())


@never_cache
def metrics_view(request):
    """``GET /metrics/`` in the Prometheus text format; 404 without the token (it does not advertise itself)."""
    if not _authorized(request):
        raise Http404
    return HttpResponse(generate_latest(_registry(with_outbox=True)), content_type=CONTENT_TYPE_LATEST)


# --- Celery ----------------------------------------------------------------------------------

_started: dict[str, float] = {}


def _task_name(sender=None, task=None, **_kwargs) -> str:
    task = task or sender
    return getattr(task, "name", None) or str(task or "unknown")


@signals.task_prerun.connect
def _on_prerun(task_id=None, task=None, **kwargs):
    _started[task_id] = time.monotonic()


@signals.task_postrun.connect
def _on_postrun(task_id=None, task=None, **kwargs):
    started = _started.pop(task_id, None)
    if started is not None:
        TASK_SECONDS.labels(task=_task_name(task=task)).observe(time.monotonic() - started)


@signals.task_success.connect
def _on_success(sender=None, **kwargs):
    TASKS.labels(task=_task_name(sender), outcome="succeeded").inc()


@signals.task_failure.connect
def _on_failure(sender=None, **kwargs):
    TASKS.labels(task=_task_name(sender), outcome="failed").inc()


@signals.task_retry.connect
def _on_retry(sender=None, **kwargs):
    TASKS.labels(task=_task_name(sender), outcome="retried").inc()


@signals.task_rejected.connect
def _on_rejected(message=None, **kwargs):
    name = getattr(message, "headers", {}).get("task", "unknown") if message is not None else "unknown"
    TASKS.labels(task=name, outcome="rejected").inc()


@signals.task_revoked.connect
def _on_revoked(request=None, **kwargs):
    TASKS.labels(task=getattr(request, "task", None) or "unknown", outcome="revoked").inc()


@signals.task_unknown.connect
def _on_unknown(name=None, **kwargs):
    TASKS.labels(task=name or "unknown", outcome="unregistered").inc()  # a worker older than the code that sent it


@signals.worker_init.connect
def _on_worker_init(**kwargs):
    prepare_multiprocess_directory()  # in the main process, before the pool forks


@signals.worker_ready.connect
def _on_worker_ready(sender=None, **kwargs):
    port = settings.METRICS_WORKER_PORT
    if not port:
        return
    from prometheus_client import start_http_server

    pool = getattr(getattr(sender, "pool", None), "__class__", type(None)).__name__
    if not multiprocess_directory() and pool in ("TaskPool", "AsynPool"):
        logger.warning(
            "metrics: the prefork pool counts tasks in its child processes; set %s so that "
            "port %s serves their figures",
            MULTIPROCESS_ENV,
            port,
        )
    start_http_server(port, addr=settings.METRICS_WORKER_ADDRESS, registry=_registry(with_outbox=False))
    logger.info("metrics: serving task figures on %s:%s", settings.METRICS_WORKER_ADDRESS, port)

"""The Celery application, configured from Django settings (``CELERY_`` namespace)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

# Every task runs in one transaction with the row-level-security context of its
# organization_id argument (see core.rls.TenantTask).
app = Celery("config", task_cls="core.rls:TenantTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Request ids travel from a request into the tasks it enqueues (core/logging.py).
import core.logging  # noqa: E402,F401

# Task outcomes for Prometheus, and the worker's metrics port (core/metrics.py).
import core.metrics  # noqa: E402,F401

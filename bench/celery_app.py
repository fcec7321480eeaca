"""The platform's Celery app plus the benchmark's no-op task (``celery -A bench.celery_app``)."""

from __future__ import annotations

import os

from celery import Task

from config.celery import app

COUNTER_KEY = "bench:noop"
_redis = None


@app.task(name="bench.noop", base=Task, ignore_result=True)
def noop() -> None:
    """Does nothing but count itself (one Redis INCR), so the run knows when all have run.

    A plain ``celery.Task``, not the platform's ``TenantTask``: this measures the broker
    and the worker, not a database transaction.
    """
    global _redis
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(os.environ["BENCH_REDIS_URL"])
    _redis.incr(COUNTER_KEY)


__all__ = ["app", "noop"]

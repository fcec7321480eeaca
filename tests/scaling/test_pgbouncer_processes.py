"""The platform as it runs on many machines: several gunicorn processes and two Celery workers,
all through one PgBouncer in transaction pooling mode (two server connections), as the
application role, with production settings (``bench.settings``: production with plain HTTP).

Two organizations use the same pool at the same time: API clients of both read their
enrollments while the two workers send both organizations' reminders. Every answer holds
exactly its own organization's rows, a key never opens the other organization, and every
reminder reaches its recipient exactly once with its own organization's message. The
thread-level proof of the hand-overs is tests/scaling/test_pgbouncer.py; docs/scaling.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest
import redis
from celery import Celery

from tests.factories.notifications import NotificationFactory
from tests.fixtures.notifications import open_settings
from tests.notifications.smtp_sink import free_port
from tests.notifications.test_worker import BASE_DIR, Processes
from tests.scaling.test_pgbouncer import pgbouncer, tenants  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REDIS_DB = 7  # this test's Redis database on a shared server
WEB_WORKERS = 3
REQUESTS_PER_THREAD = 40
THREADS = 6
REMINDERS_PER_ORGANIZATION = 30
TIMEOUT = 90


def _get(port: int, path: str, key: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {key}", "Host": "127.0.0.1"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


def _wait_until_serving(port: int, process: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited:\n{log()}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live/", timeout=2)  # noqa: S310
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not serve on {port}:\n{log()}")


def test_web_processes_and_two_workers_share_one_transaction_pool_without_leaking_an_organization(
    pgbouncer,  # noqa: F811
    tenants,  # noqa: F811
    redis_url,
    smtp_sink,
    tmp_path,
    api_key_for,
):
    from core.models import Organization
    from notifications.models import Notification

    a, b = tenants
    organizations = {t.organization_id: Organization.objects.get(pk=t.organization_id) for t in (a, b)}
    keys = {
        t.organization_id: api_key_for(organizations[t.organization_id], scopes=["programs:read"])[1] for t in tenants
    }
    reminders = {}
    for tenant in tenants:
        organization = organizations[tenant.organization_id]
        open_settings(organization)
        reminders[tenant.organization_id] = [
            NotificationFactory(
                organization=organization,
                recipient=f"founder{number}@{tenant.slug}.test",
                subject_line=f"Due today ({tenant.slug})",
            )
            for number in range(REMINDERS_PER_ORGANIZATION)
        ]

    broker = f"{redis_url.rsplit('/', 1)[0]}/{REDIS_DB}"
    redis.Redis.from_url(broker).flushdb()
    through_pool = (
        f"postgres://{quote(pgbouncer.user)}{':' + quote(pgbouncer.password) if pgbouncer.password else ''}"
        f"@127.0.0.1:{pgbouncer.port}/{pgbouncer.database}"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "CELERY_"))}
    env.pop("TEST_DATABASE_NAME", None)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",  # production settings, plain HTTP on loopback
        DATABASE_URL=through_pool,
        DATABASE_POOLER="pgbouncer",
        REDIS_URL=broker,
        CELERY_BROKER_URL=broker,
        EMAIL_URL=smtp_sink.url,
        ALLOWED_HOSTS="127.0.0.1",
        PYTHONUNBUFFERED="1",
    )
    processes = Processes(tmp_path, env)
    web_port = free_port()
    web_log = tmp_path / "web.log"
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(WEB_WORKERS), "--worker-class", "sync"]
        + ["--bind", f"127.0.0.1:{web_port}", "--log-level", "warning", "config.wsgi:application"],
        cwd=BASE_DIR,
        env=env,
        stdout=web_log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_until_serving(web_port, web, lambda: web_log.read_text(errors="replace")[-3000:])
        processes.worker("first", concurrency=1)
        processes.worker("second", concurrency=1)

        problems: list[str] = []
        answered = {a.organization_id: 0, b.organization_id: 0}
        lock = threading.Lock()
        start = threading.Barrier(THREADS)

        def client(number: int) -> None:
            start.wait()
            for request in range(REQUESTS_PER_THREAD):
                own, other = (a, b) if (number + request) % 2 else (b, a)
                if request % 10 == 9:  # the own key on the other organization's address
                    status, _body = _get(web_port, f"/api/v1/orgs/{other.slug}/enrollments/", keys[own.organization_id])
                    if status != 404:
                        problems.append(f"{own.slug}'s key on {other.slug}: {status}")
                    continue
                status, body = _get(
                    web_port, f"/api/v1/orgs/{own.slug}/enrollments/?page_size=100", keys[own.organization_id]
                )
                ids = {row["id"] for row in body.get("results", [])}
                if status != 200 or ids != own.enrollments:
                    problems.append(f"{own.slug}: {status}, {sorted(ids)} instead of {sorted(own.enrollments)}")
                with lock:
                    answered[own.organization_id] += 1

        threads = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        # Both organizations' reminders go out while the API is being read.
        celery = Celery("pool-test", broker=broker, set_as_current=False)
        for tenant in tenants:
            celery.send_task("notifications.relay_organization", kwargs={"organization_id": tenant.organization_id})
        for thread in threads:
            thread.join(TIMEOUT)
        total = 2 * REMINDERS_PER_ORGANIZATION
        assert smtp_sink.wait_for(total, TIMEOUT), processes.tails()
        time.sleep(1)  # anything sent twice would arrive now

        assert problems == [], problems[:10]
        assert min(answered.values()) > THREADS * REQUESTS_PER_THREAD / 3
        assert smtp_sink.duplicates() == []
        by_recipient = {str(message["To"]): message for message in smtp_sink.messages}
        assert len(smtp_sink.messages) == total == len(by_recipient)
        for tenant in tenants:
            for row in reminders[tenant.organization_id]:
                message = by_recipient[row.recipient]
                assert message["Subject"] == f"Due today ({tenant.slug})"
                assert f"notification.{tenant.organization_id}.{row.pk}@" in message["Message-ID"]
            statuses = set(
                Notification.objects.for_organization(organizations[tenant.organization_id]).values_list(
                    "status", flat=True
                )
            )
            assert statuses == {"sent"}
        # Both workers took part (the relay spreads the rows over the workers that are free).
        logs = processes.log("first") + processes.log("second")
        assert "succeeded" in processes.log("first") or "succeeded" in processes.log("second"), logs[-3000:]
    finally:
        processes.stop_all()
        web.terminate()
        try:
            web.wait(timeout=15)
        except subprocess.TimeoutExpired:
            web.kill()
        redis.Redis.from_url(broker).flushdb()

"""Exactly once with a real Celery worker, Redis and PostgreSQL, and an SMTP sink.

* a worker killed with SIGKILL in the middle of a batch (the whole worker, or one pool process);
* a second beat started by mistake;
* Redis restarted during a batch (a private ``redis-server`` on a free port).

Each test starts its own worker (and beats) as subprocesses that share the test
database (hence ``transaction=True``: the rows must be committed to be seen), and
stops them, whatever happens, within fixed time limits.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlparse, urlunparse

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone

from notifications.models import Notification
from notifications.schedule import zone_of
from tests.factories.notifications import NotificationFactory
from tests.factories.programs import EnrollmentFactory, MilestoneFactory, ProgramFactory, RunFactory
from tests.notifications.smtp_sink import free_port

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(settings.BASE_DIR)
REDIS_DB = 3  # this app's Redis database number on a shared server
START_TIMEOUT = 45
DELIVERY_TIMEOUT = 60


def _database_url() -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "postgres")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _with_db(url: str, number: int) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{number}"))


class Processes:
    """Subprocesses of one test, each in its own process group, all stopped at the end."""

    def __init__(self, workdir: Path, env: dict):
        self.workdir = workdir
        self.env = env
        self.started: list[tuple[str, subprocess.Popen, Path]] = []

    def start(self, name: str, *args: str, extra_env: dict | None = None) -> subprocess.Popen:
        log = self.workdir / f"{name}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "core", *args],
            cwd=BASE_DIR,
            env={**self.env, **(extra_env or {})},
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started.append((name, process, log))
        return process

    def worker(self, name: str, *, beat: bool = False, concurrency: int = 2) -> subprocess.Popen:
        args = [
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        if beat:
            args += ["--beat", "--schedule", str(self.workdir / f"{name}-schedule")]
        process = self.start(name, *args)
        self.wait_for_log(name, "ready.")
        return process

    def beat(self, name: str) -> subprocess.Popen:
        return self.start(name, "beat", "--loglevel=INFO", "--schedule", str(self.workdir / f"{name}-schedule"))

    def log(self, name: str) -> str:
        for started_name, _process, log in self.started:
            if started_name == name:
                return log.read_text(errors="replace")
        return ""

    def wait_for_log(self, name: str, text: str, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log(name):
                return
            time.sleep(0.1)
        raise AssertionError(f"{name} did not log {text!r} within {timeout}s:\n{self.log(name)[-4000:]}")

    def kill(self, process: subprocess.Popen, sig=signal.SIGKILL) -> None:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop_all(self) -> None:
        """SIGTERM to every group at once, then SIGKILL whatever is left after a few seconds."""
        running = [process for _name, process, _log in self.started if process.poll() is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.kill(process, signal.SIGKILL)

    def tails(self) -> str:
        return "\n".join(f"--- {name} ---\n{log.read_text(errors='replace')[-3000:]}" for name, _p, log in self.started)


def _environment(broker_url: str, smtp_url: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "NOTIFICATIONS_", "CELERY_")) and key != "TEST_DATABASE_NAME"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="core.settings.test",
        DATABASE_URL=_database_url(),
        REDIS_URL=broker_url,
        CELERY_BROKER_URL=broker_url,
        CELERY_TASK_ALWAYS_EAGER="false",
        EMAIL_URL=smtp_url,
        NOTIFICATIONS_PLAN_INTERVAL_SECONDS="1",
        NOTIFICATIONS_RELAY_INTERVAL_SECONDS="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def _client(broker_url: str) -> Celery:
    return Celery("worker-tests", broker=broker_url, set_as_current=False)


@pytest.fixture
def shared_broker(redis_url):
    """This app's database on the shared Redis, emptied before and after."""
    url = _with_db(redis_url, REDIS_DB)
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def processes(tmp_path):
    started = Processes(tmp_path, env={})
    yield started
    started.stop_all()


def _assert_each_once(sink, rows) -> None:
    ids = sink.message_ids()
    expected = {f"<notification.{row.organization_id}.{row.pk}@example.com>" for row in rows}
    assert sorted(ids) == sorted(expected), f"got {len(ids)} messages for {len(expected)} reminders"


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_a_worker_killed_mid_batch_loses_and_repeats_nothing(
    postgres, shared_broker, smtp_sink, processes, organization, always_open_settings
):
    rows = [NotificationFactory(organization=organization, recipient=f"founder{i}@startup.test") for i in range(8)]
    smtp_sink.hold_message_number = 3  # the worker will be waiting on this one when it dies
    processes.env = _environment(shared_broker, smtp_sink.url)

    first = processes.worker("first", concurrency=1)
    _client(shared_broker).send_task("notifications.relay_organization", kwargs={"organization_id": organization.id})
    assert smtp_sink.holding.wait(DELIVERY_TIMEOUT), processes.tails()
    processes.kill(first, signal.SIGKILL)
    smtp_sink.release_hold()

    assert smtp_sink.count() == 2
    sent_before_restart = Notification.objects.for_organization(organization).filter(status="sent").count()
    assert sent_before_restart == 2, processes.tails()  # the third was rolled back with the dead worker's transaction

    # A new worker with beat (as after a restart) finds the pending rows on its own.
    processes.worker("second", beat=True)
    assert smtp_sink.wait_for(len(rows), DELIVERY_TIMEOUT), processes.tails()
    time.sleep(2)  # a few more beat ticks: nothing more may arrive
    _assert_each_once(smtp_sink, rows)
    statuses = set(Notification.objects.for_organization(organization).values_list("status", flat=True))
    assert statuses == {Notification.Status.SENT}


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found.extend(int(child) for child in children)
    return found


def test_a_pool_process_killed_mid_send_is_replaced_and_the_task_redelivered(
    postgres, shared_broker, smtp_sink, processes, organization, always_open_settings
):
    """acks_late + reject_on_worker_lost: the worker gives the task back, a new pool process finishes it."""
    rows = [NotificationFactory(organization=organization, recipient=f"founder{i}@startup.test") for i in range(6)]
    smtp_sink.hold_message_number = 2
    processes.env = _environment(shared_broker, smtp_sink.url)

    worker = processes.worker("worker", concurrency=1)
    _client(shared_broker).send_task("notifications.relay_organization", kwargs={"organization_id": organization.id})
    assert smtp_sink.holding.wait(DELIVERY_TIMEOUT), processes.tails()
    (pool_process,) = _children(worker.pid)
    os.kill(pool_process, signal.SIGKILL)
    smtp_sink.release_hold()

    # No beat here: only the redelivered task can finish the batch.
    assert smtp_sink.wait_for(len(rows), DELIVERY_TIMEOUT), processes.tails()
    time.sleep(1)
    _assert_each_once(smtp_sink, rows)
    assert "WorkerLostError" in processes.log("worker") or "exited with 'signal 9" in processes.log("worker")


def test_a_second_beat_started_by_mistake_sends_nothing_twice(
    postgres, shared_broker, smtp_sink, processes, organization, always_open_settings
):
    today = timezone.now().astimezone(zone_of(organization)).date()
    run = RunFactory(
        program=ProgramFactory(organization=organization),
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=30),
        final_deadline=today + datetime.timedelta(days=30),
    )
    for _index in range(6):
        EnrollmentFactory(run=run, last_contact_at=timezone.now())
    MilestoneFactory(run=run, name="Customer interviews", due_on=today)
    processes.env = _environment(shared_broker, smtp_sink.url)

    processes.worker("worker")
    processes.beat("beat-one")
    processes.beat("beat-two")
    assert smtp_sink.wait_for(6, DELIVERY_TIMEOUT), processes.tails()
    time.sleep(4)  # both beats keep planning and relaying every second
    for name in ("beat-one", "beat-two"):
        assert "notifications.plan_all_organizations" in processes.log(name)
    rows = list(Notification.objects.for_organization(organization))
    assert len(rows) == 6
    _assert_each_once(smtp_sink, rows)


def test_redis_restarted_during_a_batch_loses_and_repeats_nothing(
    postgres, redis_url, smtp_sink, processes, tmp_path, organization, always_open_settings
):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed to restart a private Redis") if os.environ.get("CI") else pytest.skip(
            "redis-server not installed"
        )
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"

    def start_redis() -> subprocess.Popen:
        server = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        assert _wait(lambda: _redis_answers(broker), 10), "private redis-server did not start"
        return server

    server = start_redis()
    try:
        rows = [NotificationFactory(organization=organization, recipient=f"founder{i}@startup.test") for i in range(8)]
        smtp_sink.delay_seconds = 0.4  # a batch of eight takes a few seconds
        processes.env = _environment(broker, smtp_sink.url)
        processes.worker("worker", concurrency=1)
        _client(broker).send_task("notifications.relay_organization", kwargs={"organization_id": organization.id})
        assert smtp_sink.wait_for(2, DELIVERY_TIMEOUT), processes.tails()

        processes.kill(server, signal.SIGKILL)  # mid-batch: the broker and its queued messages are gone
        time.sleep(1)
        server = start_redis()

        # The batch in progress finishes; a relay sent after the restart picks up anything left.
        more = [NotificationFactory(organization=organization, recipient=f"late{i}@startup.test") for i in range(3)]
        client = _client(broker)
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        while smtp_sink.count() < len(rows) + len(more) and time.monotonic() < deadline:
            client.send_task("notifications.relay_organization", kwargs={"organization_id": organization.id})
            smtp_sink.wait_for(len(rows) + len(more), 3)
        assert smtp_sink.count() >= len(rows) + len(more), processes.tails()
        time.sleep(1)
        _assert_each_once(smtp_sink, rows + more)
    finally:
        processes.stop_all()
        processes.kill(server, signal.SIGKILL)


def _redis_answers(url: str) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
        return bool(client.ping())
    except redis.RedisError:
        return False

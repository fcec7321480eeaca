"""Exactly once with a real Celery worker, Redis and PostgreSQL, and an SMTP sink.

Each fault is put where it hurts, and every test counts messages at the sink (each
``Message-ID`` exactly once) and checks the outbox says what happened:

* SIGKILL of a pool process, and of the whole worker, right *after* the server accepted
  a message and before its outcome was recorded: no repeat; the row is shown uncertain;
* SIGKILL while the server still holds a message it then refuses: not resent on a
  guess either; a person resends it from the outbox;
* the worker's PostgreSQL connections terminated while the server holds an accepted
  message: the worker reconnects and records it, nothing repeats;
* an SMTP outage longer than the whole retry schedule: the circuit breaker stops
  claiming, no row fails, everything goes out once the server is back;
* a second beat started by mistake; Redis restarted during a batch.

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

from notifications import services
from notifications.models import DeliveryAttempt, Notification
from notifications.schedule import zone_of
from tests.factories.notifications import NotificationFactory
from tests.factories.programs import EnrollmentFactory, MilestoneFactory, ProgramFactory, RunFactory
from tests.notifications.smtp_sink import free_port

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(settings.BASE_DIR)
REDIS_DB = 3  # this app's Redis database number on a shared server
START_TIMEOUT = 45
DELIVERY_TIMEOUT = 60
LEASE_SECONDS = 3


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
            [sys.executable, "-m", "celery", "-A", "config", *args],
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


def _environment(broker_url: str, smtp_url: str, **extra: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "NOTIFICATIONS_", "CELERY_")) and key != "TEST_DATABASE_NAME"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=_database_url(),
        REDIS_URL=broker_url,
        CELERY_BROKER_URL=broker_url,
        CELERY_TASK_ALWAYS_EAGER="false",
        EMAIL_URL=smtp_url,
        NOTIFICATIONS_PLAN_INTERVAL_SECONDS="1",
        NOTIFICATIONS_RELAY_INTERVAL_SECONDS="1",
        # A lost worker's row is judged after 3 s (production: 120 s); probes every 1-2 s.
        NOTIFICATIONS_SENDING_LEASE_SECONDS=str(LEASE_SECONDS),
        NOTIFICATIONS_BREAKER_PROBE_SECONDS="1",
        NOTIFICATIONS_BREAKER_PROBE_MAX_SECONDS="2",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
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


def _statuses(organization) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in Notification.objects.for_organization(organization).values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def _assert_at_most_once(sink, rows) -> None:
    ids = sink.message_ids()
    assert sink.duplicates() == [], f"sent twice: {sink.duplicates()}"
    expected = {f"<notification.{row.organization_id}.{row.pk}@example.com>" for row in rows}
    assert set(ids) <= expected


def test_a_worker_killed_while_the_server_holds_a_message_does_not_resend_it_on_a_guess(
    postgres, shared_broker, smtp_sink, processes, organization, always_open_settings, monkeypatch
):
    """The server never got the message (it refused it after the kill): uncertain, then resent by a person."""
    rows = [NotificationFactory(organization=organization, recipient=f"founder{i}@startup.test") for i in range(8)]
    smtp_sink.hold_message_number = 3  # the worker will be waiting on this one when it dies
    processes.env = _environment(shared_broker, smtp_sink.url)

    first = processes.worker("first", concurrency=1)
    _client(shared_broker).send_task("notifications.relay_organization", kwargs={"organization_id": organization.id})
    assert smtp_sink.holding.wait(DELIVERY_TIMEOUT), processes.tails()
    processes.kill(first, signal.SIGKILL)
    smtp_sink.release_hold()
    assert smtp_sink.count() == 2
    assert _statuses(organization) == {"sent": 2, "sending": 1, "pending": 5}  # the attempt was committed first

    # A new worker (no beat: its start rings the relays) finishes the batch in seconds.
    processes.worker("second")
    assert smtp_sink.wait_for(7, DELIVERY_TIMEOUT), processes.tails()
    assert _wait(lambda: _statuses(organization) == {"sent": 7, "uncertain": 1}, DELIVERY_TIMEOUT), (
        _statuses(organization),
        processes.tails(),
    )
    _assert_at_most_once(smtp_sink, rows)
    uncertain = Notification.objects.for_organization(organization).get(status="uncertain")
    assert uncertain.recipient == "founder2@startup.test"

    # The program manager decides to send it again (the worker, not this process, sends it).
    monkeypatch.setattr(services, "enqueue_relay", lambda **kwargs: None)
    services.notification_retry(organization=organization, notification=uncertain)
    _client(shared_broker).send_task("notifications.relay_organization", kwargs={"organization_id": organization.id})
    assert smtp_sink.wait_for(8, DELIVERY_TIMEOUT), processes.tails()
    time.sleep(1)
    _assert_each_once(smtp_sink, rows)
    assert _statuses(organization) == {"sent": 8}


def test_the_main_worker_killed_right_after_the_server_accepted_sends_nothing_twice(
    postgres, shared_broker, smtp_sink, processes, organization, always_open_settings
):
    rows = [NotificationFactory(organization=organization, recipient=f"founder{i}@startup.test") for i in range(6)]
    smtp_sink.hold_after_accept_number = 3  # the server has it; the worker waits for the 250
    processes.env = _environment(shared_broker, smtp_sink.url)

    first = processes.worker("first", concurrency=1)
    _client(shared_broker).send_task("notifications.relay_organization", kwargs={"organization_id": organization.id})
    assert smtp_sink.holding.wait(DELIVERY_TIMEOUT), processes.tails()
    processes.kill(first, signal.SIGKILL)  # the main process and its pool, after acceptance
    smtp_sink.release_hold()
    assert smtp_sink.count() == 3

    processes.worker("second")  # no beat: the start of the worker rings the relays
    assert smtp_sink.wait_for(len(rows), DELIVERY_TIMEOUT), processes.tails()
    assert _wait(lambda: _statuses(organization) == {"sent": 5, "uncertain": 1}, DELIVERY_TIMEOUT), (
        _statuses(organization),
        processes.tails(),
    )
    time.sleep(LEASE_SECONDS + 1)  # past the lease, and more relays: still nothing twice
    _assert_each_once(smtp_sink, rows)  # the uncertain one was in fact delivered, once
    assert Notification.objects.for_organization(organization).get(status="uncertain").recipient == (
        "founder2@startup.test"
    )


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found.extend(int(child) for child in children)
    return found


def test_a_pool_process_killed_right_after_the_server_accepted_sends_nothing_twice(
    postgres, shared_broker, smtp_sink, processes, organization, always_open_settings
):
    """acks_late + reject_on_worker_lost: the task comes back, a new pool process finishes the batch."""
    rows = [NotificationFactory(organization=organization, recipient=f"founder{i}@startup.test") for i in range(6)]
    smtp_sink.hold_after_accept_number = 2
    processes.env = _environment(shared_broker, smtp_sink.url)

    worker = processes.worker("worker", concurrency=1)
    _client(shared_broker).send_task("notifications.relay_organization", kwargs={"organization_id": organization.id})
    assert smtp_sink.holding.wait(DELIVERY_TIMEOUT), processes.tails()
    (pool_process,) = _children(worker.pid)
    os.kill(pool_process, signal.SIGKILL)
    smtp_sink.release_hold()

    # No beat here: only the redelivered task (and the relay waking itself) can finish.
    assert smtp_sink.wait_for(len(rows), DELIVERY_TIMEOUT), processes.tails()
    assert _wait(lambda: _statuses(organization) == {"sent": 5, "uncertain": 1}, DELIVERY_TIMEOUT), (
        _statuses(organization),
        processes.tails(),
    )
    time.sleep(1)
    _assert_each_once(smtp_sink, rows)
    assert "WorkerLostError" in processes.log("worker") or "exited with 'signal 9" in processes.log("worker")


def test_the_workers_database_connection_lost_after_acceptance_is_recorded_not_resent(
    postgres, shared_broker, smtp_sink, processes, organization, always_open_settings, owner_connection
):
    rows = [NotificationFactory(organization=organization, recipient=f"founder{i}@startup.test") for i in range(6)]
    smtp_sink.hold_after_accept_number = 3
    processes.env = _environment(shared_broker, smtp_sink.url)
    owner_connection.set_autocommit(True)

    processes.worker("worker", concurrency=1)
    _client(shared_broker).send_task("notifications.relay_organization", kwargs={"organization_id": organization.id})
    assert smtp_sink.holding.wait(DELIVERY_TIMEOUT), processes.tails()
    with owner_connection.cursor() as cursor:  # every backend of the test database but the test's own
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> %s",
            [connection.connection.info.backend_pid],
        )
        (terminated,) = cursor.fetchone()
    assert terminated >= 1
    smtp_sink.release_hold()

    assert smtp_sink.wait_for(len(rows), DELIVERY_TIMEOUT), processes.tails()
    assert _wait(lambda: _statuses(organization) == {"sent": 6}, DELIVERY_TIMEOUT), (
        _statuses(organization),
        processes.tails(),
    )
    time.sleep(LEASE_SECONDS + 1)
    _assert_each_once(smtp_sink, rows)
    assert "reconnecting" in processes.log("worker")


def test_an_smtp_outage_longer_than_the_retry_schedule_fails_nothing(
    postgres, shared_broker, smtp_sink, processes, organization, always_open_settings
):
    """Retries 1+1+1+1 s; the server is down 10 s. Without the breaker every row would be marked failed."""
    rows = [NotificationFactory(organization=organization, recipient=f"founder{i}@startup.test") for i in range(12)]
    smtp_sink.go_down()
    processes.env = _environment(shared_broker, smtp_sink.url, NOTIFICATIONS_RETRY_DELAYS_SECONDS="1,1,1,1")
    processes.worker("worker", beat=True)
    assert _wait(lambda: "sending paused" in processes.log("worker"), DELIVERY_TIMEOUT), processes.tails()
    time.sleep(10)
    assert "failed" not in _statuses(organization), _statuses(organization)

    smtp_sink.come_back()
    back = time.monotonic()
    assert smtp_sink.wait_for(len(rows), DELIVERY_TIMEOUT), processes.tails()
    assert time.monotonic() - back < 60  # within a minute of the server's return
    time.sleep(2)
    _assert_each_once(smtp_sink, rows)
    assert _statuses(organization) == {"sent": len(rows)}
    failed_attempts = DeliveryAttempt.objects.for_organization(organization).filter(succeeded=False).count()
    assert failed_attempts <= 4, failed_attempts  # the failures that opened the circuit, not 12 x 5


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
    # Each founder: the due-today reminder and the welcome (enrolled just now in a run that has started).
    assert smtp_sink.wait_for(12, DELIVERY_TIMEOUT), processes.tails()
    time.sleep(4)  # both beats keep planning and relaying every second
    for name in ("beat-one", "beat-two"):
        assert "notifications.plan_all_organizations" in processes.log(name)
    rows = list(Notification.objects.for_organization(organization))
    assert sorted(row.kind for row in rows) == ["milestone_due_today"] * 6 + ["welcome"] * 6
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


def test_the_worker_logs_json_lines_with_the_request_id_that_enqueued_the_task(
    postgres, shared_broker, smtp_sink, processes, organization, always_open_settings
):
    """docs/operations.md: follow one request into the reminder it rang, across processes."""
    import json

    from core import logging as request_logging

    processes.env = _environment(shared_broker, smtp_sink.url, LOG_FORMAT="json")
    processes.worker("worker", concurrency=1)
    assert _wait(  # its own start-up relay has run and found nothing due
        lambda: any(
            "relay_all_organizations" in line and "succeeded" in line for line in processes.log("worker").splitlines()
        ),
        START_TIMEOUT,
    ), processes.tails()
    row = NotificationFactory(organization=organization, recipient="founder@startup.test")
    token = request_logging.request_id_var.set("req-from-the-admin")
    try:  # what a request that rings the relay does (before_task_publish adds the header)
        _client(shared_broker).send_task(
            "notifications.relay_organization", kwargs={"organization_id": organization.id}
        )
    finally:
        request_logging.request_id_var.reset(token)
    assert smtp_sink.wait_for(1, DELIVERY_TIMEOUT), processes.tails()
    processes.wait_for_log("worker", f"sent notification {row.pk}")
    lines = [json.loads(line) for line in processes.log("worker").splitlines() if line.startswith("{")]
    sent = next(line for line in lines if line["message"] == f"sent notification {row.pk}")
    assert sent["request_id"] == "req-from-the-admin"
    assert sent["task"] == "notifications.relay_organization" and sent["task_id"]


def test_the_worker_serves_task_outcomes_of_its_pool_processes_for_prometheus(
    postgres, shared_broker, smtp_sink, processes, organization, always_open_settings, tmp_path
):
    """docs/operations.md "Metrics": a prefork worker's children count; its main process answers the scrape."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    port = free_port()
    metrics_dir = tmp_path / "worker-metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"left by a worker that died")  # emptied at start
    processes.env = _environment(
        shared_broker, smtp_sink.url, METRICS_WORKER_PORT=str(port), PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)
    )
    processes.worker("worker", concurrency=2)
    row = NotificationFactory(organization=organization, recipient="founder@startup.test")
    client = _client(shared_broker)
    client.send_task("notifications.relay_organization", kwargs={"organization_id": organization.id})
    client.send_task("reports.not_deployed_yet", kwargs={})
    assert smtp_sink.wait_for(1, DELIVERY_TIMEOUT), processes.tails()
    processes.wait_for_log("worker", "reports.not_deployed_yet")

    def scrape() -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def tasks(name: str, outcome: str) -> float:
        return scrape().get(("cohort_celery_tasks_total", (("outcome", outcome), ("task", name))), 0)

    assert _wait(lambda: tasks("notifications.relay_organization", "succeeded") >= 1, 10), processes.tails()
    assert tasks("reports.not_deployed_yet", "unregistered") == 1
    assert tasks("notifications.relay_all_organizations", "succeeded") >= 1  # the start-up relay
    timed = scrape()[("cohort_celery_task_seconds_count", (("task", "notifications.relay_organization"),))]
    assert timed >= 1
    assert Notification.objects.for_organization(organization).get(pk=row.pk).status == Notification.Status.SENT

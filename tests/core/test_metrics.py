"""Metrics a Prometheus server scrapes (core/metrics.py, docs/operations.md "Metrics").

The figures are read the way a Prometheus server reads them: over HTTP from a real
gunicorn with several worker processes in the production settings, connected as the
application role (row-level security on), and parsed with prometheus_client's own
text parser. The worker's task figures are read from a real Celery worker in
tests/notifications/test_worker.py.
"""

from __future__ import annotations

import datetime
import http.client
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from notifications.models import Notification
from tests.factories.integrations import WebhookDeliveryFactory, WebhookSubscriptionFactory
from tests.factories.notifications import NotificationFactory
from tests.notifications.smtp_sink import free_port

BASE_DIR = Path(settings.BASE_DIR)
TOKEN = "scrape-" + "x" * 24


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples, name: str, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def _total(samples, name: str, **labels) -> float:
    """Sum over every series of ``name`` whose labels include ``labels``."""
    return sum(
        value
        for (sample_name, sample_labels), value in samples.items()
        if sample_name == name and labels.items() <= dict(sample_labels).items()
    )


# --- The endpoint, in-process -------------------------------------------------------------


@pytest.fixture
def scrape(client, settings, db):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_OPEN = False

    def get(token=TOKEN):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        return client.get("/metrics/", **headers)

    return get


def test_the_metrics_answer_only_with_the_token(scrape, settings):
    assert scrape(token=None).status_code == 404
    assert scrape(token="wrong").status_code == 404
    response = scrape()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    settings.METRICS_TOKEN = ""  # no token configured and not open: the endpoint is not there
    assert scrape().status_code == 404


def test_the_outbox_backlog_counts_every_organization_by_state_and_names_none(scrape, organization, other_organization):
    now = timezone.now()
    NotificationFactory(organization=organization, next_attempt_at=now - datetime.timedelta(minutes=30))
    NotificationFactory(organization=other_organization, next_attempt_at=now - datetime.timedelta(minutes=5))
    NotificationFactory(organization=other_organization, next_attempt_at=now + datetime.timedelta(hours=2))
    NotificationFactory(organization=organization, status=Notification.Status.UNCERTAIN)
    NotificationFactory(organization=other_organization, status=Notification.Status.FAILED)
    NotificationFactory(organization=organization, status=Notification.Status.SENT)
    WebhookDeliveryFactory(
        organization=other_organization,
        subscription=WebhookSubscriptionFactory(organization=other_organization),
        next_attempt_at=now - datetime.timedelta(seconds=90),
    )

    response = scrape()
    text = response.content.decode()
    samples = _samples(text)
    assert _value(samples, "cohort_outbox_up") == 1
    # Under row-level security, as the application role: both organizations are counted.
    assert _value(samples, "cohort_outbox_messages", outbox="notifications", state="pending") == 3
    assert _value(samples, "cohort_outbox_messages", outbox="notifications", state="uncertain") == 1
    assert _value(samples, "cohort_outbox_messages", outbox="notifications", state="failed") == 1
    assert _value(samples, "cohort_outbox_messages", outbox="notifications", state="sending") == 0
    assert _value(samples, "cohort_outbox_messages", outbox="notifications", state="sent") is None  # history
    assert _value(samples, "cohort_outbox_messages", outbox="webhooks", state="pending") == 1
    oldest = _value(samples, "cohort_outbox_oldest_due_seconds", outbox="notifications")
    assert 30 * 60 <= oldest < 31 * 60  # the reminder due for 30 minutes, not the one due in 2 hours
    assert 90 <= _value(samples, "cohort_outbox_oldest_due_seconds", outbox="webhooks") < 150
    # Counts only: no organization, recipient or subject leaves the platform.
    for secret in (organization.slug, other_organization.slug, organization.name, "@startup.test", "Due today"):
        assert secret not in text


def test_requests_are_counted_by_view_and_status(scrape, client):
    before = _samples(scrape().content.decode())
    for _ in range(3):
        assert client.get("/health/live/").status_code == 200
    after = _samples(scrape().content.decode())
    name = "django_http_responses_total_by_status_view_method_total"
    labels = {"status": "200", "view": "health-live", "method": "GET"}
    assert _total(after, name, **labels) - _total(before, name, **labels) == 3


def test_a_database_outage_leaves_the_request_figures_and_says_the_outbox_is_unknown(scrape, monkeypatch):
    from django.db import OperationalError

    from core import metrics

    def down(now=None):
        raise OperationalError("connection refused")

    monkeypatch.setattr(metrics, "outbox_backlog", down)
    response = scrape()
    assert response.status_code == 200
    samples = _samples(response.content.decode())
    assert _value(samples, "cohort_outbox_up") == 0
    assert _total(samples, "django_http_requests_before_middlewares_total") >= 1


# --- A production gunicorn with several processes -------------------------------------------


def _app_database_url() -> str:
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    return f"postgres://{quote(db['USER'])}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def production_web(postgres, redis_url, tmp_path):
    """gunicorn, 3 workers, production settings, as the application role, sharing one metrics directory."""
    port = free_port()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "stale_from_an_earlier_run.db").write_bytes(b"not a metrics file")
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("PYTEST") and key != "TEST_DATABASE_NAME"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DATABASE_URL=_app_database_url(),
        REDIS_URL=redis_url,
        SECRET_KEY=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    log = tmp_path / "gunicorn.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "3", "--bind", f"127.0.0.1:{port}", "config.wsgi:application"],
        cwd=BASE_DIR,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if _get(port, "/health/live/")[0] == 200:
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"gunicorn did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    yield port
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _get(port: int, path: str, headers: dict | None = None) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


@pytest.mark.django_db(transaction=True)
def test_a_scrape_of_any_gunicorn_worker_adds_up_every_workers_requests(production_web, organization):
    NotificationFactory(organization=organization)
    name = "django_http_responses_total_by_status_view_method_total"
    authorized = {"Authorization": f"Bearer {TOKEN}"}
    before = _total(_samples(_get(production_web, "/metrics/", authorized)[1]), name, view="health-live")
    for _ in range(30):  # new connections: gunicorn spreads them over its workers
        assert _get(production_web, "/health/live/")[0] == 200
    status, _body = _get(production_web, "/metrics/")
    assert status == 404  # no token, no metrics
    samples = [_samples(_get(production_web, "/metrics/", authorized)[1]) for _ in range(3)]
    for scraped in samples:  # whichever worker answered, it reports all of them
        assert _total(scraped, name, status="200", view="health-live") - before == 30
        assert _value(scraped, "cohort_outbox_messages", outbox="notifications", state="pending") == 1

"""Health endpoints and error tracking, as a load balancer, an orchestrator and an operator use them."""

import gzip
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db.migrations.executor import MigrationExecutor
from django.test import Client, override_settings

from tests.notifications.smtp_sink import free_port

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "x7$Kq!9vLm2#Zp8RtY4wNc6&Hj1Fd3Bs5Gx0Ue-Ai+Oo_Ll=Mm",
    "ALLOWED_HOSTS": "testserver",
}


def _run(code: str, **env) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        cwd=ROOT,
        env={**os.environ, **PRODUCTION, **env},
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


PROBE = (
    "import json\nfrom django.test import Client\nc = Client()\n"
    "live = c.get('/health/live/')\n"
    "ready = c.get('/health/ready/?format=json')\n"
    "print(json.dumps({'live': live.status_code, 'ready': ready.status_code, 'checks': ready.json()}))"
)


def test_with_the_database_down_the_process_is_live_but_not_ready():
    """Production settings, plain http (probes are exempt from the https redirect), PostgreSQL unreachable."""
    seen = _run(PROBE, DATABASE_URL=f"postgres://cohort_app@127.0.0.1:{free_port()}/cohort", REDIS_URL="")
    assert seen["live"] == 200
    assert seen["ready"] == 500
    database = next(value for key, value in seen["checks"].items() if key.startswith("Database"))
    assert database != "OK"


def test_ready_checks_database_migrations_redis_and_a_worker(db, redis_url):
    with override_settings(CELERY_BROKER_URL=redis_url):
        response = Client().get("/health/ready/?format=json")
    checks = response.json()
    assert response.status_code == 500  # no Celery worker runs in this test
    assert [key.split("(")[0] for key in checks] == ["Database", "MigrationsApplied", "Redis", "Ping"]
    assert checks[next(k for k in checks if k.startswith("Database"))] == "OK"
    assert checks[next(k for k in checks if k.startswith("MigrationsApplied"))] == "OK"
    assert checks[next(k for k in checks if k.startswith("Redis"))] == "OK"
    assert "unavailable" in checks[next(k for k in checks if k.startswith("Ping"))]
    assert response.headers["Cache-Control"].startswith("max-age=0")


def test_an_unapplied_migration_makes_the_process_not_ready(db, monkeypatch):
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("fake", False)])
    checks = Client().get("/health/ready/?format=json").json()
    migrations = checks[next(k for k in checks if k.startswith("MigrationsApplied"))]
    assert migrations == "Unavailable: 1 unapplied migration(s)"


class _Envelopes(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        _Envelopes.received.append((self.path, self.rfile.read(int(self.headers.get("Content-Length") or 0))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_server():
    _Envelopes.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Envelopes)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


REPORT = (
    "import json, sentry_sdk\n"
    "active = sentry_sdk.get_client().is_active()\n"
    "if active:\n"
    "    sentry_sdk.capture_exception(ZeroDivisionError('boom for the test'))\n"
    "    sentry_sdk.flush(5)\n"
    "print(json.dumps({'active': active}))"
)


def test_errors_reach_the_tracker_only_when_a_dsn_is_set(sentry_server):
    assert _run(REPORT, SENTRY_DSN="") == {"active": False}
    dsn = f"http://publickey@127.0.0.1:{sentry_server.server_port}/42"
    assert _run(REPORT, SENTRY_DSN=dsn) == {"active": True}
    ((path, body),) = _Envelopes.received
    assert path == "/api/42/envelope/"
    assert b"boom for the test" in (gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)

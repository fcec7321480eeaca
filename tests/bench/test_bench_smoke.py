"""The benchmark still works: ``python -m bench.run --size smoke`` end to end.

Needs PostgreSQL (the benchmark makes its own database next to the test database);
Redis is used when there is one (the sending measurement), skipped otherwise. The
figures of a smoke run mean nothing; what is checked is that the table is produced
and that list endpoints make as many queries for 1 row as for 100.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.fixtures.database import owner_settings

BASE_DIR = Path(__file__).resolve().parents[2]
SMOKE_TIMEOUT_SECONDS = 240

pytestmark = pytest.mark.postgres


def _bench_database_url(connection) -> str:
    # The bench creates and drops its database, so it is given the owner (as `make bench` is);
    # it connects its servers as the application role itself.
    db = {**connection.settings_dict, **owner_settings()}
    user = quote(db["USER"] or "postgres")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    # Its own database, never the test database: the benchmark drops what it creates.
    return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/bench_smoke_test"


def test_smoke_size_prints_every_section_with_constant_query_counts(postgres, tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    # A run that hangs is stopped with SIGTERM, on which it stops the web servers and worker it
    # started (a worker left behind would take the next run's tasks from the bench's Redis database).
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--size",
            "smoke",
            "--database-url",
            _bench_database_url(postgres),
            "--out",
            str(tmp_path),
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=SMOKE_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.terminate()  # the bench stops its web servers and worker on SIGTERM
        try:
            stdout, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
        pytest.fail(f"the smoke bench did not finish in {SMOKE_TIMEOUT_SECONDS} s:\n{stdout[-3000:]}\n{stderr[-3000:]}")
    finished = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    assert finished.returncode == 0, finished.stderr[-4000:]

    for heading in (
        "## 1. API list endpoints",
        "## 2. Queries per list request",
        "## 3. Cohort report",
        "## 4. Reminders",
        "## 5. Importing",
        "## 6. Admin pages",
    ):
        assert heading in finished.stdout
    assert (tmp_path / "bench-smoke-latest.json").exists()
    result = json.loads((tmp_path / "bench-smoke-latest.json").read_text())
    sections = {section["key"]: section for section in result["sections"]}

    queries = sections["queries"]["data"]
    assert set(queries) == {"runs", "enrollments", "assessments"}
    for endpoint, counts in queries.items():
        assert counts["1"] == counts["10"] == counts["100"], (endpoint, counts)
        assert counts["1"] > 0

    for endpoint, figures in sections["api"]["data"].items():
        assert figures["platform_rps"] > 0 and figures["baseline_rps"] > 0, endpoint
    assert sections["reminders"]["data"]["rows"] > 0
    assert sections["import"]["data"]["import_s"] > 0
    assert all(page["queries"] > 0 for page in sections["admin"]["data"].values())

"""Structured logs: a request id on every line of a request, carried into the tasks it enqueues."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from django.test import Client

from core import logging as request_logging

ROOT = Path(__file__).resolve().parents[2]


def test_a_request_gets_an_id_and_sends_it_back(db):
    given = Client().get("/health/live/", HTTP_X_REQUEST_ID="lb-7f3a.42")
    assert given.headers["X-Request-ID"] == "lb-7f3a.42"
    made = Client().get("/health/live/")
    assert len(made.headers["X-Request-ID"]) == 32
    forged = Client().get("/health/live/", HTTP_X_REQUEST_ID="x\nInjected: yes")
    assert forged.headers["X-Request-ID"] != "x\nInjected: yes" and "\n" not in forged.headers["X-Request-ID"]


def test_every_log_line_of_a_request_carries_its_id(db, program_manager, caplog):
    caplog.handler.addFilter(request_logging.RequestIdFilter())
    with caplog.at_level(logging.INFO):
        Client().post(
            "/admin/login/", {"username": program_manager.email, "password": "wrong"}, HTTP_X_REQUEST_ID="req-1"
        )
    lines = [r for r in caplog.records if r.name.startswith("axes")]
    assert lines and {r.request_id for r in lines} == {"req-1"}
    outside = logging.LogRecord("x", logging.INFO, __file__, 1, "after", None, None)
    request_logging.RequestIdFilter().filter(outside)
    assert outside.request_id == ""  # the id ends with the request


def test_a_task_enqueued_by_a_request_carries_its_id_to_the_worker():
    headers: dict = {}
    token = request_logging.request_id_var.set("req-9")
    try:
        request_logging.carry_request_id(headers=headers)
    finally:
        request_logging.request_id_var.reset(token)
    assert headers == {"request_id": "req-9"}

    class Request:
        request_id = "req-9"

    class Task:
        name = "notifications.relay_organization"
        request = Request()

    request_logging.enter_task(task_id="t-1", task=Task())
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "in the task", None, None)
    request_logging.RequestIdFilter().filter(record)
    request_logging.leave_task(task_id="t-1")
    assert (record.request_id, record.task_id, record.task_name) == ("req-9", "t-1", "notifications.relay_organization")


def test_production_writes_one_json_object_per_line():
    code = (
        "import django; django.setup()\n"
        "import logging\nfrom django.test import Client\n"
        "Client().get('/health/live/', HTTP_X_REQUEST_ID='req-json', secure=True)\n"
        "from core import logging as l\nt = l.request_id_var.set('req-json')\n"
        "logging.getLogger('cohort.test').warning('hello %s', '세계')\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "x7$Kq!9vLm2#Zp8RtY4wNc6&Hj1Fd3Bs5Gx0Ue-Ai+Oo_Ll=Mm",
        "ALLOWED_HOSTS": "testserver",
    }
    env.pop("LOG_FORMAT", None)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    (hello,) = [line for line in lines if line["logger"] == "cohort.test"]
    assert hello["message"] == "hello 세계" and hello["level"] == "WARNING" and hello["request_id"] == "req-json"
    assert hello["time"].endswith("Z")

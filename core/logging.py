"""Structured logs with a request id that follows the work into Celery tasks.

* :class:`RequestIdMiddleware` gives every request an id: the caller's ``X-Request-ID``
  when it is a sane token (a load balancer's or an integrator's), else a new one. It is
  sent back in ``X-Request-ID`` and put on every log line of the request.
* Tasks enqueued while handling the request carry it in a message header
  (``before_task_publish``); the worker puts it back for the task's log lines
  (``task_prerun``), so "this request → that reminder" can be followed across processes.
* ``LOG_FORMAT=json`` (the production default) writes one JSON object per line: time
  (UTC), level, logger, message, request id, task id and name, process, exception.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import uuid
from contextvars import ContextVar

from celery.signals import before_task_publish, task_postrun, task_prerun

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
task_var: ContextVar[tuple[str, str]] = ContextVar("task", default=("", ""))

HEADER = "X-Request-ID"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def clean_request_id(value: str | None) -> str | None:
    """The caller's id when it is safe to log and echo (no spaces, no newlines, short), else None."""
    return value if value and _SANE.match(value) else None


class RequestIdFilter(logging.Filter):
    """Adds ``request_id``, ``task_id`` and ``task_name`` to every record (empty outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.task_id, record.task_name = task_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.datetime.fromtimestamp(record.created, datetime.UTC)
        data = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or None,
            "task_id": getattr(record, "task_id", "") or None,
            "task": getattr(record, "task_name", "") or None,
            "process": record.process,
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


class RequestIdMiddleware:
    """First in the chain: every later middleware's and the view's log lines carry the id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = clean_request_id(request.headers.get(HEADER)) or uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[HEADER] = request_id
        return response


@before_task_publish.connect(dispatch_uid="core.logging.carry_request_id")
def carry_request_id(headers=None, **_kwargs) -> None:
    request_id = request_id_var.get()
    if request_id and headers is not None:
        headers.setdefault("request_id", request_id)


_outer: dict[str, tuple[str, tuple[str, str]]] = {}  # task id -> the ids before it (eager tasks run inside requests)


@task_prerun.connect(dispatch_uid="core.logging.enter_task")
def enter_task(task_id=None, task=None, **_kwargs) -> None:
    _outer[task_id or ""] = (request_id_var.get(), task_var.get())
    carried = getattr(task.request, "request_id", None) if task is not None else None
    if carried is None and task is not None:
        carried = (getattr(task.request, "headers", None) or {}).get("request_id")
    request_id_var.set(clean_request_id(carried) or request_id_var.get())
    task_var.set((task_id or "", getattr(task, "name", "") or ""))


@task_postrun.connect(dispatch_uid="core.logging.leave_task")
def leave_task(task_id=None, **_kwargs) -> None:
    request_id, task = _outer.pop(task_id or "", ("", ("", "")))
    request_id_var.set(request_id)
    task_var.set(task)

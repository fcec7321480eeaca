"""Gunicorn, Celery and SMTP processes of a benchmark run, each stopped by its own id."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.database import BASE_DIR, SETTINGS_MODULE

# Both the platform and the baseline are served with exactly these settings.
GUNICORN_WORKERS = 2
GUNICORN_ARGS = ["--workers", str(GUNICORN_WORKERS), "--worker-class", "sync", "--log-level", "warning"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Processes:
    """Subprocesses started by this run; :meth:`stop_all` ends exactly these (by process group)."""

    def __init__(self, log_dir: Path, env: dict):
        self.log_dir = log_dir
        self.env = env
        self.started: list[tuple[str, subprocess.Popen, Path]] = []

    def start(self, name: str, args: list[str], extra_env: dict | None = None) -> subprocess.Popen:
        log = self.log_dir / f"{name}.log"
        process = subprocess.Popen(
            args,
            cwd=BASE_DIR,
            env={**self.env, **(extra_env or {})},
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started.append((name, process, log))
        return process

    def log(self, name: str) -> str:
        for started, _process, log in self.started:
            if started == name:
                return log.read_text(errors="replace")
        return ""

    def gunicorn(self, name: str, app: str, extra_env: dict | None = None) -> tuple[subprocess.Popen, int]:
        """Start gunicorn on a free loopback port; :meth:`wait_until_serving` before using it."""
        port = free_port()
        args = [sys.executable, "-m", "gunicorn", *GUNICORN_ARGS, "--bind", f"127.0.0.1:{port}", app]
        return self.start(name, args, extra_env), port

    def wait_until_serving(self, name: str, process: subprocess.Popen, port: int) -> int:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{self.log(name)[-3000:]}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/__ready__")
                connection.getresponse().read()
                connection.close()
                return port
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{name} did not start:\n{self.log(name)[-3000:]}")

    def celery_worker(self, name: str, extra_env: dict | None = None) -> subprocess.Popen:
        args = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "bench.celery_app",
            "worker",
            "--loglevel=INFO",
            "--concurrency=1",
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        process = self.start(name, args, extra_env)
        deadline = time.monotonic() + 60
        while "ready." not in self.log(name):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{self.log(name)[-3000:]}")
            time.sleep(0.1)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop_all(self) -> None:
        for _name, process, _log in reversed(self.started):
            self.stop(process)


def base_env(*, app_url: str, redis_url: str) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE, "DATABASE_URL": app_url}
    env.pop("EMAIL_URL", None)
    if redis_url:
        env.update({"REDIS_URL": redis_url, "CELERY_BROKER_URL": redis_url, "BENCH_REDIS_URL": redis_url})
    return env


class SmtpSink:
    """A local SMTP server that accepts and counts every message (aiosmtpd), in a thread."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self.count = 0
        self._lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                with sink._lock:
                    sink.count += 1
                return "250 2.0.0 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()

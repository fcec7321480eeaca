"""Gunicorn settings read from the working directory (``gunicorn config.wsgi:application``).

Only what the metrics need (core/metrics.py): with ``PROMETHEUS_MULTIPROC_DIR`` set,
the workers add up their figures in that directory, which must start empty, and a
worker that exits leaves its live figures behind. Everything else comes from the
command line (docker-compose.yml, Dockerfile).
"""

import os
import shutil
from pathlib import Path


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

"""A bounded HTTP load: a fixed number of requests at a fixed concurrency, from its own process.

Pure Python (http.client and threads) so that ``make bench`` needs nothing but Python
and PostgreSQL. Run as ``python -m bench.load`` with a JSON job on stdin; prints a JSON
result. The client's own cost is the same for the platform and for the baseline.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from urllib.parse import urlsplit


def _fetch(
    connection, path: str, headers: dict, method: str = "GET", body: bytes | None = None
) -> tuple[http.client.HTTPConnection, int, bytes]:
    for attempt in (1, 2):
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            if response.will_close:
                connection.close()
            return connection, response.status, answer
        except (ConnectionError, http.client.HTTPException):
            connection.close()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def run(
    *,
    host: str,
    port: int,
    paths: list[str],
    headers: dict,
    requests: int,
    concurrency: int,
    method: str = "GET",
    body: str | None = None,
) -> dict:
    """``requests`` requests (``method``, the same ``body`` each time) cycling through ``paths``."""
    payload = body.encode() if body is not None else None
    lock = threading.Lock()
    state = {"next": 0, "ok": 0, "errors": 0, "bytes": 0, "statuses": {}}

    def worker():
        connection = http.client.HTTPConnection(host, port, timeout=60)
        while True:
            with lock:
                index = state["next"]
                if index >= requests:
                    break
                state["next"] += 1
            connection, status, answer = _fetch(connection, paths[index % len(paths)], headers, method, payload)
            with lock:
                state["bytes"] += len(answer)
                state["statuses"][str(status)] = state["statuses"].get(str(status), 0) + 1
                state["ok" if status == 200 else "errors"] += 1
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "requests": requests,
        "seconds": elapsed,
        "rps": requests / elapsed if elapsed else 0.0,
        "ok": state["ok"],
        "errors": state["errors"],
        "statuses": state["statuses"],
        "bytes_per_response": state["bytes"] / max(1, requests),
    }


def collect_pages(*, base_url: str, first_path: str, headers: dict, pages: int) -> list[str]:
    """Follow ``next`` links from ``first_path``: the paths the load will cycle through."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    paths, path = [], first_path
    while path and len(paths) < pages:
        connection, status, body = _fetch(connection, path, headers)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {body[:500]!r}")
        paths.append(path)
        link = json.loads(body).get("next")
        if link:
            link_parts = urlsplit(link)
            path = link_parts.path + (f"?{link_parts.query}" if link_parts.query else "")
        else:
            path = None
    connection.close()
    return paths


def first_ids(*, port: int, path: str) -> list[int]:
    """The ids of the rows one page answers (the detail and write rows cycle through them)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection, status, body = _fetch(connection, path, {})
    connection.close()
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}: {body[:500]!r}")
    return [row["id"] for row in json.loads(body)["results"]]


if __name__ == "__main__":
    job = json.load(sys.stdin)
    json.dump(run(**job), sys.stdout)

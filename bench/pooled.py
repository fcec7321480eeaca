"""``python -m bench.pooled``: the platform behind PgBouncer in transaction pooling mode, 1 vs 3 workers.

Not part of ``make bench`` nor of the test suite (tests/scaling/test_pgbouncer.py proves
the isolation; this only measures). It builds its own database (``bench_pooled``, from
the bench's migrated template, dropped at the end unless ``--keep``), loads the bench
organization (``--size``, default ``smoke``), starts a PgBouncer of its own
(``pool_mode = transaction``, ``--pool-size`` server connections) and serves the API
with gunicorn as the application role: through PgBouncer (``DATABASE_POOLER=pgbouncer``)
with 1 sync worker and with 3, and directly with 3 for the cost of the hop. The three
servers run side by side and the rounds are interleaved; the load is the bench's own
client (bench/load.py) in a second process. It prints requests per second, the ratios,
and how many PostgreSQL connections the application role had at most.

On a machine with two cores the 3-worker figure is bounded by the cores (client,
gunicorn, PgBouncer and PostgreSQL share them): read the ratio, not the absolute figures.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import psycopg

from bench import load
from bench.database import BASE_DIR, DEFAULT_URL, SETTINGS_MODULE, create, database_name, drop, dsn, with_user
from bench.dataset import ORG_SLUG
from bench.processes import Processes, base_env, free_port
from bench.run import _default_redis_url, _redis_reachable
from bench.sizes import SIZES

ENDPOINT = f"/api/v1/orgs/{ORG_SLUG}/enrollments/?page_size=10"


def _pgbouncer(processes: Processes, app_url: str, pool_size: int, directory: Path) -> int:
    """Start PgBouncer (transaction pooling) for the application role's database; return its port."""
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not os.access(binary, os.X_OK):
        raise SystemExit("pgbouncer is not installed (apt-get install pgbouncer)")
    parsed = urlparse(app_url)
    name = database_name(app_url)
    port = free_port()
    user, password = parsed.username or "cohort_app", parsed.password or ""
    (directory / "users.txt").write_text(f'"{user}" "{password}"\n')
    (directory / "pgbouncer.ini").write_text(
        f"[databases]\n{name} = host={parsed.hostname or '127.0.0.1'} port={parsed.port or 5432} dbname={name}\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {directory / 'users.txt'}\npool_mode = transaction\n"
        f"default_pool_size = {pool_size}\nreserve_pool_size = 0\nmax_client_conn = 200\n"
    )
    args = [binary]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        account = pwd.getpwnam("postgres") if _user_exists("postgres") else pwd.getpwnam("nobody")
        for path in (directory, *directory.iterdir()):
            os.chown(path, account.pw_uid, account.pw_gid)
        args += ["-u", account.pw_name]
    process = processes.start("pgbouncer", [*args, str(directory / "pgbouncer.ini")])
    deadline = time.monotonic() + 15
    while "listening on" not in processes.log("pgbouncer"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"pgbouncer did not start:\n{processes.log('pgbouncer')[-3000:]}")
        time.sleep(0.1)
    return port


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _load(port: int, paths: list[str], headers: dict, requests: int, concurrency: int) -> dict:
    job = {"host": "127.0.0.1", "port": port, "paths": paths, "headers": headers}
    job |= {"requests": requests, "concurrency": concurrency}
    done = subprocess.run(
        [sys.executable, "-m", "bench.load"], input=json.dumps(job), capture_output=True, text=True, cwd=BASE_DIR
    )
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout)


DIRECT_NAME = "bench-direct"  # application_name of the direct server's connections


def _backends_while(owner_url: str, role: str, name: str, during) -> tuple[object, dict[str, int]]:
    """Run ``during()``, sampling the application role's server connections: (result, most seen at once).

    The direct server names its connections ``bench-direct``; every other connection of
    the role is one of PgBouncer's.
    """
    most, done = {"direct": 0, "pgbouncer": 0}, threading.Event()

    def sample():
        with psycopg.connect(dsn(owner_url), autocommit=True) as connection:
            while not done.is_set():
                direct, pooled = connection.execute(
                    "SELECT count(*) FILTER (WHERE application_name = %s), "
                    "count(*) FILTER (WHERE application_name IS DISTINCT FROM %s) "
                    "FROM pg_stat_activity WHERE usename = %s AND datname = %s",
                    [DIRECT_NAME, DIRECT_NAME, role, name],
                ).fetchone()
                most["direct"], most["pgbouncer"] = max(most["direct"], direct), max(most["pgbouncer"], pooled)
                time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        result = during()
    finally:
        done.set()
        sampler.join()
    return result, most


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default="smoke")
    default_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL).rsplit("/", 1)[0] + "/bench_pooled"
    parser.add_argument("--database-url", default=default_url, help="The owner's URL; the database is (re)created.")
    parser.add_argument("--pool-size", type=int, default=4, help="PgBouncer's server connections (default 4).")
    parser.add_argument("--requests", type=int, default=600, help="Requests per round (default 600).")
    parser.add_argument("--rounds", type=int, default=2, help="Best of this many rounds (default 2).")
    parser.add_argument("--concurrency", type=int, default=6, help="Client threads (default 6).")
    parser.add_argument("--redis-url", default=_default_redis_url())
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    owner_url = args.database_url
    role = os.environ.get("DATABASE_APP_ROLE", "cohort_app")
    app_url = with_user(owner_url, role, os.environ.get("DATABASE_APP_PASSWORD", ""))
    redis_url = args.redis_url if _redis_reachable(args.redis_url) else ""  # the API's rate-limit counters
    log(f"creating the database {database_name(owner_url)} ({args.size})")
    create(owner_url, log=log)
    os.environ.update(DJANGO_SETTINGS_MODULE=SETTINGS_MODULE, DATABASE_URL=app_url)
    import django

    django.setup()
    from bench import dataset as dataset_module

    directory = Path(tempfile.mkdtemp(prefix="bench-pooled-"))
    processes = Processes(directory, base_env(app_url=app_url, redis_url=redis_url))
    servers = []  # (label, workers, port, paths)
    try:
        dataset = dataset_module.build(size=SIZES[args.size], owner_url=owner_url, log=log)
        from django.db import connections

        connections.close_all()  # only the servers' connections count below
        bouncer_port = _pgbouncer(processes, app_url, args.pool_size, directory)
        pooled_url = app_url.replace(f":{urlparse(app_url).port or 5432}/", f":{bouncer_port}/", 1)
        headers = {"Authorization": f"Bearer {dataset.api_token}"}
        started_servers = []
        for label, workers, url, pooler in (
            ("pooled", 1, f"{pooled_url}?application_name=bench-pooled-1", "pgbouncer"),
            ("pooled", 3, f"{pooled_url}?application_name=bench-pooled-3", "pgbouncer"),
            ("direct", 3, f"{app_url}?application_name={DIRECT_NAME}", ""),
        ):
            port = free_port()
            gunicorn = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class", "sync"]
            gunicorn += ["--log-level", "warning", "--bind", f"127.0.0.1:{port}", "config.wsgi:application"]
            name = f"web-{label}-{workers}"
            process = processes.start(name, gunicorn, {"DATABASE_URL": url, "DATABASE_POOLER": pooler})
            started_servers.append((label, workers, name, process, port))
        for label, workers, name, process, port in started_servers:
            processes.wait_until_serving(name, process, port)
            paths = load.collect_pages(
                base_url=f"http://127.0.0.1:{port}", first_path=ENDPOINT, headers=headers, pages=5
            )
            _load(port, paths, headers, 4 * workers * args.concurrency, args.concurrency)  # warm every worker
            servers.append((label, workers, port, paths))

        def measure() -> dict[tuple[str, int], list[dict]]:
            # Rounds interleaved (the machine is shared: drifting load hits every server alike); best round counts.
            results: dict[tuple[str, int], list[dict]] = {(label, workers): [] for label, workers, _p, _q in servers}
            for round_number in range(args.rounds):
                for label, workers, port, paths in servers:
                    result = _load(port, paths, headers, args.requests, args.concurrency)
                    results[label, workers].append(result)
                    log(f"round {round_number + 1}: {label}, {workers} worker(s): {result['rps']:.1f} req/s")
            return results

        results, backends = _backends_while(owner_url, role, database_name(owner_url), measure)
        for key, rounds in results.items():
            errors = sum(result["errors"] for result in rounds)
            if errors:
                raise RuntimeError(f"{key}: {errors} failed requests: {[r['statuses'] for r in rounds]}")
        figures = {key: max(result["rps"] for result in rounds) for key, rounds in results.items()}
    finally:
        processes.stop_all()
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop(owner_url)
        shutil.rmtree(directory, ignore_errors=True)

    print(f"\nGET {ENDPOINT} ({args.size}), {args.concurrency} client threads, {os.cpu_count()} cores, best of")
    print(f"{args.rounds} interleaved rounds of {args.requests} requests; PgBouncer pool_mode = transaction,")
    print(f"default_pool_size = {args.pool_size}\n")
    print("| gunicorn sync workers | database | req/s |")
    print("|---|---|---|")
    for (label, workers), rps in figures.items():
        print(f"| {workers} | {'through PgBouncer' if label == 'pooled' else 'direct'} | {rps:.1f} |")
    print(f"\n3 / 1 workers behind PgBouncer: {figures['pooled', 3] / figures['pooled', 1]:.2f}")
    print(f"PgBouncer / direct, 3 workers: {figures['pooled', 3] / figures['direct', 3]:.2f}")
    print(
        f"PostgreSQL connections of the application role, most at once: {backends['pgbouncer']} from PgBouncer "
        f"(for 4 workers), {backends['direct']} from the 3 direct workers"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

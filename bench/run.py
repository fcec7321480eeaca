"""``python -m bench.run --size large``: build the benchmark database, measure, print the table.

The database (``BENCH_DATABASE_URL``, default ``postgres://postgres@127.0.0.1:5432/bench_cohort``)
belongs to the benchmark: it is created from a migrated template, loaded with COPY, and
dropped at the end (``--keep`` keeps it). Web, worker and baselines connect as the
application role (row-level security on, as in production). Celery and the API's rate
limit counters use Redis database 8 (``BENCH_REDIS_URL``); without Redis the sending
measurement is skipped. The table goes to stdout and to ``bench/out/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from bench.database import BASE_DIR, DEFAULT_URL, SETTINGS_MODULE, create, drop, with_user
from bench.sizes import SIZES

SECTIONS = ("api", "queries", "report", "reminders", "import", "admin")
REDIS_DB = 8


def _default_redis_url() -> str:
    if os.environ.get("BENCH_REDIS_URL"):
        return os.environ["BENCH_REDIS_URL"]
    base = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    return urlunparse(urlparse(base)._replace(path=f"/{REDIS_DB}"))


def _redis_reachable(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except Exception:
        return False


def machine_description(owner_url: str) -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    import psycopg

    from bench.database import dsn

    with psycopg.connect(dsn(owner_url)) as connection:
        postgres = connection.execute("SHOW server_version").fetchone()[0]
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "postgresql": postgres,
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def render(result: dict) -> str:
    machine = result["machine"]
    lines = [
        f"# Benchmark ({result['size']}) — {result['started']}",
        "",
        f"Machine: {machine['nproc']} cores ({machine['cpu']}), {machine['memory']} RAM, "
        f"PostgreSQL {machine['postgresql']}, Python {machine['python']}.",
        f"Dataset: {result['dataset']}.",
        f"Total time: {result['seconds']:.0f} s.",
    ]
    for section in result["sections"]:
        lines += ["", f"## {section['title']}", ""]
        lines.append("| " + " | ".join(section["columns"]) + " |")
        lines.append("|" + "|".join("---" for _ in section["columns"]) + "|")
        for row in section["rows"]:
            lines.append("| " + " | ".join(str(cell) for cell in row) + " |")
        for note in section["notes"]:
            lines += ["", note]
    return "\n".join(lines) + "\n"


def _exit_on_sigterm(signum, frame):  # noqa: ARG001
    # A stopped run still stops what it started (``finally`` below): a web server or worker
    # left behind would serve the next run.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default="large")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--redis-url", default=_default_redis_url())
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"Comma-separated, from {', '.join(SECTIONS)}.")
    parser.add_argument("--out", default=str(BASE_DIR / "bench" / "out"))
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards (for looking around).")
    parser.add_argument(
        "--as-owner", action="store_true", help="Connect as the database owner instead of the application role."
    )
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    wanted = [name.strip() for name in args.sections.split(",") if name.strip()]
    unknown = set(wanted) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    log_dir = out_dir / f"logs-{args.size}-{stamp}"
    log_dir.mkdir()
    started_at = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started_at:6.1f}s] {message}", file=sys.stderr, flush=True)

    owner_url = args.database_url
    role = os.environ.get("DATABASE_APP_ROLE", "cohort_app")
    app_url = owner_url if args.as_owner else with_user(owner_url, role, os.environ.get("DATABASE_APP_PASSWORD", ""))
    redis_url = args.redis_url if _redis_reachable(args.redis_url) else ""
    if not redis_url:
        log(f"Redis not reachable at {args.redis_url}: the sending measurement is skipped")

    log(f"creating the database ({args.size})")
    create(owner_url, log=log)
    from bench.processes import Processes, base_env

    env = base_env(app_url=app_url, redis_url=redis_url)
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    os.environ["DATABASE_URL"] = app_url
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "BENCH_REDIS_URL"):
        if redis_url:
            os.environ[name] = redis_url
        else:
            os.environ.pop(name, None)
    import django

    django.setup()
    from bench import dataset as dataset_module
    from bench import sections

    processes = Processes(log_dir, env)
    result: dict = {"size": args.size, "started": stamp, "sections": []}
    try:
        log("loading the organization")
        dataset = dataset_module.build(size=size, owner_url=owner_url, log=log)
        counts = dataset.counts
        result["dataset"] = (
            f"{size.runs} runs, {counts.get('programs.Enrollment', 0):,} enrollments, "
            f"{counts.get('programs.MilestoneProgress', 0):,} milestone progress rows, "
            f"{counts.get('assessments.AssessmentWindow', 0):,} assessment windows, "
            f"{counts.get('assessments.Assessment', 0):,} assessments (self and mentor), "
            f"{counts.get('mentors.Mentor', 0):,} mentors with {counts.get('mentors.DevelopmentGoal', 0):,} goals"
        )
        result["counts"] = counts
        ctx = sections.Context(
            size=size,
            dataset=dataset,
            app_url=app_url,
            owner_url=owner_url,
            redis_url=redis_url,
            processes=processes,
            log=log,
        )
        measure = {
            "api": sections.api_throughput,
            "queries": sections.queries_per_request,
            "report": sections.cohort_report,
            "reminders": sections.reminders,
            "import": sections.imports,
            "admin": sections.admin_pages,
        }
        for name in SECTIONS:
            if name not in wanted:
                continue
            log(f"measuring: {name}")
            measured = measure[name](ctx)
            for section in measured if isinstance(measured, list) else [measured]:
                result["sections"].append(section.__dict__)
            # What is measured so far survives an interrupted run.
            (out_dir / f"bench-{args.size}-{stamp}-partial.json").write_text(json.dumps(result, indent=2, default=str))
            if name == "api":
                # Free the two cores for what follows.
                processes.stop_all()
                processes.started.clear()
    finally:
        processes.stop_all()
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop(owner_url)
    result["seconds"] = time.perf_counter() - started_at
    result["machine"] = machine_description(owner_url.rsplit("/", 1)[0] + "/postgres")
    text = render(result)
    print(text)
    (out_dir / f"bench-{args.size}-{stamp}.md").write_text(text)
    (out_dir / f"bench-{args.size}-{stamp}.json").write_text(json.dumps(result, indent=2, default=str))
    (out_dir / f"bench-{args.size}-latest.json").write_text(json.dumps(result, indent=2, default=str))
    log(f"written to {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

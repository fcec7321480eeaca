"""The six measurements of issue #9, each beside its baseline in the same run.

Each function returns a :class:`Section`: a table and notes. Absolute figures are
printed for reading, but only the ratios (and query counts) compare across machines.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from bench import load
from bench.database import BASE_DIR, dsn
from bench.dataset import ORG_SLUG, Dataset, local_today
from bench.sizes import Size

API_ENDPOINTS = ("runs", "enrollments", "assessments")
PAGE_SIZES = (1, 10, 100)
CLIENT_CONCURRENCY = 2
SLOW_PAGE_SECONDS = 3.0  # an admin page slower than this is timed once


@dataclass
class Section:
    key: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)  # machine-readable figures (bench/out/*.json, the smoke test)


@dataclass
class Context:
    size: Size
    dataset: Dataset
    app_url: str  # the application role: web, worker and the baselines connect as it
    owner_url: str
    redis_url: str
    processes: object  # bench.processes.Processes
    log: Callable[[str], None] = print


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _best(function: Callable[[], object], repeats: int) -> float:
    """Seconds of the fastest of ``repeats`` calls (the machine is shared: noise only adds)."""
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return min(timings)


def _app_connection(ctx: Context, organization_id: int) -> psycopg.Connection:
    connection = psycopg.connect(dsn(ctx.app_url))
    connection.execute("SELECT set_config('app.organization_id', %s, false)", [str(organization_id)])
    connection.commit()
    return connection


def _organization(ctx: Context):
    from core.models import Organization

    return Organization.objects.get(pk=ctx.dataset.organization_id)


# --- 1. API list endpoints under gunicorn ------------------------------------------------------


def _load(
    port: int, paths: list[str], headers: dict, requests: int, method: str = "GET", body: str | None = None
) -> dict:
    job = {
        "host": "127.0.0.1",
        "port": port,
        "paths": paths,
        "headers": headers,
        "requests": requests,
        "concurrency": CLIENT_CONCURRENCY,
        "method": method,
        "body": body,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.load"],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        cwd=BASE_DIR,
        check=True,
    )
    return json.loads(done.stdout)


@dataclass
class _Server:
    name: str
    port: int
    headers: dict


def _measure(ctx: Context, servers: list[_Server], paths: dict[str, list[str]], **request) -> dict[str, float]:
    """Requests per second of each server over its paths: warmed, then the best of the rounds, interleaved."""
    from bench.processes import GUNICORN_WORKERS

    for server in servers:
        _load(server.port, paths[server.name], server.headers, 4 * GUNICORN_WORKERS, **request)
    runs: dict[str, list[dict]] = {server.name: [] for server in servers}
    for _round in range(ctx.size.api_rounds):
        for server in servers:
            runs[server.name].append(
                _load(server.port, paths[server.name], server.headers, ctx.size.api_requests, **request)
            )
    for name, results in runs.items():
        errors = sum(r["errors"] for r in results)
        if errors:
            raise RuntimeError(f"{name}: {errors} failed requests: {[r['statuses'] for r in results]}")
    return {name: max(r["rps"] for r in results) for name, results in runs.items()} | {
        f"{name}_bytes": statistics.mean(r["bytes_per_response"] for r in results) for name, results in runs.items()
    }


LIST_RAW_TARGET = 0.5
LIST_PEER_TARGET = 3.0


def api_throughput(ctx: Context) -> list[Section]:
    from bench.processes import GUNICORN_WORKERS

    size = ctx.size
    section = Section(
        key="api",
        title="1. API list endpoints, page size 100 (requests per second)",
        columns=[
            "endpoint",
            "platform req/s",
            "ordinary DRF peer req/s",
            "raw baseline req/s",
            "platform / raw",
            f"≥ {LIST_RAW_TARGET:.2f}",
            "platform / peer",
            f"≥ {LIST_PEER_TARGET:.1f}",
        ],
    )
    single = Section(
        key="api_single",
        title="1b. API detail and write endpoints (requests per second)",
        columns=["request", "platform req/s", "ordinary DRF peer req/s", "raw baseline req/s", "platform / raw"],
    )
    processes = ctx.processes
    organization = str(ctx.dataset.organization_id)
    # All three start at once (each imports its application in every worker), then all must answer.
    web = processes.gunicorn("web", "config.wsgi:application")
    baseline = processes.gunicorn(
        "baseline",
        "bench.baseline_app:application",
        extra_env={"BENCH_BASELINE_DSN": dsn(ctx.app_url), "BENCH_ORGANIZATION_ID": organization},
    )
    peer = processes.gunicorn(
        "peer",
        "bench.peer_wsgi:application",
        # The owner: an ordinary app knows no row-level security.
        extra_env={
            "DJANGO_SETTINGS_MODULE": "bench.peer_settings",
            "DATABASE_URL": ctx.owner_url,
            "BENCH_ORGANIZATION_ID": organization,
        },
    )
    headers = {"Authorization": f"Bearer {ctx.dataset.api_token}"}
    servers = [
        _Server("baseline", processes.wait_until_serving("baseline", *baseline), {}),
        _Server("peer", processes.wait_until_serving("peer", *peer), {}),
        _Server("platform", processes.wait_until_serving("web", *web), headers),
    ]
    ports = {server.name: server.port for server in servers}
    first_ids: dict[str, list[int]] = {}
    for name in API_ENDPOINTS:
        first = {
            "platform": f"/api/v1/orgs/{ORG_SLUG}/{name}/?page_size=100",
            "peer": f"/peer/{name}/",
            "baseline": f"/baseline/{name}?page_size=100",
        }
        paths = {
            server.name: load.collect_pages(
                base_url=f"http://127.0.0.1:{server.port}",
                first_path=first[server.name],
                headers=server.headers,
                pages=size.api_pages,
            )
            for server in servers
        }
        first_ids[name] = load.first_ids(port=ports["baseline"], path=paths["baseline"][0])
        figures = _measure(ctx, servers, paths)
        web_rps, peer_rps, baseline_rps = figures["platform"], figures["peer"], figures["baseline"]
        ratio, peer_ratio = web_rps / baseline_rps, web_rps / peer_rps
        section.rows.append(
            [
                name,
                f"{web_rps:.1f}",
                f"{peer_rps:.1f}",
                f"{baseline_rps:.1f}",
                f"{ratio:.2f}",
                _met(ratio >= LIST_RAW_TARGET),
                f"{peer_ratio:.2f}",
                _met(peer_ratio >= LIST_PEER_TARGET),
            ]
        )
        section.data[name] = {
            "platform_rps": web_rps,
            "peer_rps": peer_rps,
            "baseline_rps": baseline_rps,
            "ratio": ratio,
            "peer_ratio": peer_ratio,
            "pages": len(paths["platform"]),
            "platform_bytes": figures["platform_bytes"],
            "peer_bytes": figures["peer_bytes"],
            "baseline_bytes": figures["baseline_bytes"],
        }
        ctx.log(
            f"api {name}: platform {web_rps:.1f}, peer {peer_rps:.1f}, raw {baseline_rps:.1f} req/s "
            f"({ratio:.2f} of raw, {peer_ratio:.2f}x the peer)"
        )
    # One row by id (the ids of the first page), and one write.
    for name in API_ENDPOINTS:
        ids = first_ids[name][: size.api_pages] or [0]
        paths = {
            "platform": [f"/api/v1/orgs/{ORG_SLUG}/{name}/{pk}/" for pk in ids],
            "peer": [f"/peer/{name}/{pk}/" for pk in ids],
            "baseline": [f"/baseline/{name}/{pk}" for pk in ids],
        }
        _single_row(ctx, single, f"GET {name}/<id>/", _measure(ctx, servers, paths))
    ids = first_ids["enrollments"][: size.api_pages] or [0]
    write_servers = [server for server in servers if server.name != "peer"]  # the peer is read-only
    write_servers = [
        _Server(server.name, server.port, {**server.headers, "Content-Type": "application/json"})
        for server in write_servers
    ]
    paths = {
        "platform": [f"/api/v1/orgs/{ORG_SLUG}/enrollments/{pk}/" for pk in ids],
        "baseline": [f"/baseline/enrollments/{pk}" for pk in ids],
    }
    body = json.dumps({"success_definition": "투자 유치 준비 완료"})
    _single_row(ctx, single, "PATCH enrollments/<id>/", _measure(ctx, write_servers, paths, method="PATCH", body=body))
    section.notes.append(
        f"gunicorn {GUNICORN_WORKERS} sync workers for all three (same settings); client: {CLIENT_CONCURRENCY} "
        f"threads in a second process on loopback, {size.api_requests} requests per round, best of "
        f"{size.api_rounds} rounds, cycling through the first {size.api_pages} pages (cursor links for the "
        "platform, page numbers for the peer, keyset links for the baseline). The platform authenticates an API "
        "key, checks scopes, counts the rate limit (Redis), sets the row-level-security context and serializes; "
        "the ordinary DRF peer (bench/peer_app.py) is ReadOnlyModelViewSet + ModelSerializer of the same fields, "
        "PageNumberPagination of 100 (with its COUNT), no authentication, no RLS, connected as the owner; the raw "
        "baseline does only the SQL (with the same RLS setting) and orjson."
    )
    single.notes.append(
        "The same servers and client. GET: one row by id, cycling through the ids of the first page. PATCH: "
        "`success_definition` of an enrollment (the platform validates, saves, writes the audit event; the "
        "baseline runs one UPDATE ... RETURNING under the same RLS setting); the peer is read-only."
    )
    return [section, single]


def _single_row(ctx: Context, section: Section, label: str, figures: dict[str, float]) -> None:
    peer = figures.get("peer")
    ratio = figures["platform"] / figures["baseline"]
    section.rows.append(
        [
            label,
            f"{figures['platform']:.1f}",
            "—" if peer is None else f"{peer:.1f}",
            f"{figures['baseline']:.1f}",
            f"{ratio:.2f}",
        ]
    )
    section.data[label] = {
        "platform_rps": figures["platform"],
        "peer_rps": peer,
        "baseline_rps": figures["baseline"],
        "ratio": ratio,
    }
    ctx.log(f"api {label}: platform {figures['platform']:.1f}, raw {figures['baseline']:.1f} req/s ({ratio:.2f})")


# --- 2. Queries per request --------------------------------------------------------------------


def queries_per_request(ctx: Context) -> Section:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    section = Section(
        key="queries",
        title="2. Queries per list request by page size",
        columns=["endpoint", *(f"page size {n}" for n in PAGE_SIZES), "equal"],
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {ctx.dataset.api_token}", HTTP_HOST="127.0.0.1")
    for name in API_ENDPOINTS:
        counts = []
        for page_size in PAGE_SIZES:
            url = f"/api/v1/orgs/{ORG_SLUG}/{name}/?page_size={page_size}"
            client.get(url)  # warm: the key's once-a-minute "last used" write happens here
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} answered {response.status_code}: {response.content[:300]!r}")
            counts.append(len(captured))
        equal = len(set(counts)) == 1
        section.rows.append([name, *counts, _met(equal)])
        section.data[name] = dict(zip([str(n) for n in PAGE_SIZES], counts, strict=True))
        section.data[name]["equal"] = equal
    section.notes.append(
        "In-process (Django test client, same settings and database role), first page, API key authentication."
    )
    return section


# --- 3. Cohort report --------------------------------------------------------------------------

BARE_REPORT_SQL = [
    # The subjects of every run at once: consensus of others (by the framework's method) and self level.
    """
    CREATE TEMP TABLE bench_subjects ON COMMIT DROP AS
    WITH rated AS (
        SELECT a.window_id, a.subject_enrollment_id AS enrollment_id, l.number AS level,
               ROW_NUMBER() OVER (PARTITION BY a.window_id, a.subject_enrollment_id ORDER BY l.number, a.id) AS pos,
               ROW_NUMBER() OVER (PARTITION BY a.window_id, a.subject_enrollment_id
                                  ORDER BY a.submitted_at DESC, a.id DESC) AS recency,
               COUNT(*) OVER (PARTITION BY a.window_id, a.subject_enrollment_id) AS n
        FROM assessments_assessment a JOIN assessments_level l ON l.id = a.level_id
        JOIN assessments_assessmentwindow aw ON aw.id = a.window_id
        WHERE a.organization_id = %(org)s AND a.subject_enrollment_id IS NOT NULL AND a.assessor_role <> 'self'
          AND (%(run)s::bigint IS NULL OR aw.run_id = %(run)s)
    ),
    others AS (
        SELECT window_id, enrollment_id,
               AVG(CASE WHEN pos IN ((n + 1) / 2, (n + 2) / 2) THEN level END)::float AS median_level,
               AVG(level)::float AS mean_level, MAX(CASE WHEN recency = 1 THEN level END) AS latest_level
        FROM rated GROUP BY window_id, enrollment_id
    ),
    selfs AS (
        SELECT a.window_id, a.subject_enrollment_id AS enrollment_id, l.number AS self_level
        FROM assessments_assessment a JOIN assessments_level l ON l.id = a.level_id
        JOIN assessments_assessmentwindow aw ON aw.id = a.window_id
        WHERE a.organization_id = %(org)s AND a.subject_enrollment_id IS NOT NULL AND a.assessor_role = 'self'
          AND (%(run)s::bigint IS NULL OR aw.run_id = %(run)s)
    )
    SELECT w.id AS window_id, w.run_id, w.kind, e.id AS enrollment_id,
           CASE f.consensus_method WHEN 'mean' THEN o.mean_level WHEN 'latest' THEN o.latest_level::float
                ELSE o.median_level END AS consensus,
           s.self_level
    FROM assessments_assessmentwindow w
    JOIN assessments_framework f ON f.id = w.framework_id
    JOIN programs_enrollment e ON e.run_id = w.run_id AND e.organization_id = w.organization_id
    LEFT JOIN others o ON o.window_id = w.id AND o.enrollment_id = e.id
    LEFT JOIN selfs s ON s.window_id = w.id AND s.enrollment_id = e.id
    WHERE w.organization_id = %(org)s AND e.archived_at IS NULL AND (%(run)s::bigint IS NULL OR w.run_id = %(run)s)
      AND (o.enrollment_id IS NOT NULL OR s.enrollment_id IS NOT NULL)
    """,
    # Perception gap per window.
    """
    SELECT window_id, COUNT(consensus), COUNT(self_level), AVG(consensus), AVG(self_level),
           AVG(self_level - consensus),
           SUM(CASE WHEN self_level - consensus >= 1 THEN 1 ELSE 0 END),
           SUM(CASE WHEN consensus - self_level >= 1 THEN 1 ELSE 0 END),
           SUM(CASE WHEN ABS(self_level - consensus) < 1 THEN 1 ELSE 0 END)
    FROM bench_subjects GROUP BY window_id
    """,
    # Distribution of levels per window.
    """
    SELECT window_id, 'consensus', FLOOR(consensus), COUNT(*) FROM bench_subjects
    WHERE consensus IS NOT NULL GROUP BY window_id, FLOOR(consensus)
    UNION ALL
    SELECT window_id, 'self', self_level, COUNT(*) FROM bench_subjects
    WHERE self_level IS NOT NULL GROUP BY window_id, self_level
    """,
    # Growth pre -> post: per participant (with names), per run, per mentor.
    """
    CREATE TEMP TABLE bench_growth ON COMMIT DROP AS
    SELECT b.run_id, b.enrollment_id, b.consensus AS before, a.consensus AS after,
           b.self_level AS self_before, a.self_level AS self_after
    FROM bench_subjects b JOIN bench_subjects a ON a.enrollment_id = b.enrollment_id AND a.kind = 'post'
    WHERE b.kind = 'pre'
    """,
    """
    SELECT g.enrollment_id, COALESCE(p.name, t.name, ''), g.before, g.after, g.self_before, g.self_after
    FROM bench_growth g JOIN programs_enrollment e ON e.id = g.enrollment_id
    LEFT JOIN programs_participant p ON p.id = e.participant_id LEFT JOIN programs_team t ON t.id = e.team_id
    ORDER BY g.run_id, COALESCE(p.name, t.name, ''), g.enrollment_id
    """,
    """
    SELECT run_id, COUNT(*), AVG(before), AVG(after), AVG(after - before),
           SUM(CASE WHEN after - before >= 1 THEN 1 ELSE 0 END), SUM(CASE WHEN after < before THEN 1 ELSE 0 END)
    FROM bench_growth WHERE before IS NOT NULL AND after IS NOT NULL GROUP BY run_id
    """,
    """
    SELECT ma.run_id, m.id, COALESCE(NULLIF(u.name, ''), u.email), COUNT(DISTINCT ma.enrollment_id),
           COUNT(g.enrollment_id), AVG(g.after - g.before), SUM(CASE WHEN g.after - g.before >= 1 THEN 1 ELSE 0 END)
    FROM programs_mentorassignment ma
    JOIN mentors_mentor m ON m.id = ma.mentor_id JOIN core_user u ON u.id = m.user_id
    JOIN programs_enrollment e ON e.id = ma.enrollment_id AND e.archived_at IS NULL
    LEFT JOIN bench_growth g ON g.enrollment_id = ma.enrollment_id AND g.before IS NOT NULL AND g.after IS NOT NULL
    WHERE ma.organization_id = %(org)s AND ma.enrollment_id IS NOT NULL
      AND (%(run)s::bigint IS NULL OR ma.run_id = %(run)s)
    GROUP BY ma.run_id, m.id, u.name, u.email
    """,
]


def cohort_report(ctx: Context) -> Section:
    from assessments.reports import cohort_report as build_report
    from assessments.reports import organization_report
    from core import rls
    from core.tenancy import tenant_guard
    from programs.models import Run

    organization = _organization(ctx)
    with tenant_guard(), rls.organization_context(organization.id):
        runs = list(Run.objects.for_organization(organization).order_by("id"))

    def platform():
        with tenant_guard(), rls.organization_context(organization.id):
            report = organization_report(organization=organization)
        assert report.growth.subjects > 0

    def platform_run(run):
        with tenant_guard(), rls.organization_context(organization.id):
            report = build_report(organization=organization, run=run)
        assert report.participants

    connection = _app_connection(ctx, organization.id)

    def bare(run_id=None):
        participants = 0
        with connection.cursor() as cursor:
            for statement in BARE_REPORT_SQL:
                cursor.execute(statement, {"org": organization.id, "run": run_id})
                if cursor.description:
                    participants = max(participants, len(cursor.fetchall()))
        connection.commit()
        assert participants > 0

    platform()  # warm both (plans, caches)
    bare()
    repeats = ctx.size.report_repeats
    bare_seconds = _best(bare, repeats)
    platform_seconds = _best(platform, repeats)
    one_run = runs[len(runs) // 2]
    bare_run_seconds = _best(lambda: bare(one_run.pk), 3 * repeats)
    platform_run_seconds = _best(lambda: platform_run(one_run), 3 * repeats)
    connection.close()
    ratio = platform_seconds / bare_seconds
    run_ratio = platform_run_seconds / bare_run_seconds
    section = Section(
        key="report",
        title="3. Cohort report of the whole organization (distribution, growth, gap)",
        columns=["what", "platform s", "bare SQL s", "ratio", "target", "met"],
    )
    section.rows.append(
        [
            f"organization_report() over {len(runs)} runs vs one org-wide pass",
            f"{platform_seconds:.3f}",
            f"{bare_seconds:.3f}",
            f"{ratio:.2f}",
            "≤ 2.00",
            _met(ratio <= 2),
        ]
    )
    section.rows.append(
        [
            "cohort_report() of one run vs the same SQL for that run",
            f"{platform_run_seconds:.3f}",
            f"{bare_run_seconds:.3f}",
            f"{run_ratio:.2f}",
            "(per run)",
            _met(run_ratio <= 2),
        ]
    )
    section.data = {
        "platform_s": platform_seconds,
        "bare_s": bare_seconds,
        "ratio": ratio,
        "runs": len(runs),
        "platform_run_s": platform_run_seconds,
        "bare_run_s": bare_run_seconds,
        "run_ratio": run_ratio,
    }
    section.notes.append(
        "Bare SQL: psycopg, the same role and RLS setting, computes the subjects (consensus and self level) of every "
        "run once into a temporary table and aggregates gap, distribution, and growth per participant, run and "
        f"mentor from it (second row: the same, limited to one run). Best of {ctx.size.report_repeats} "
        "(one run: best of three times as many). organization_report() makes three queries (windows, levels, one "
        "statement whose parts share the subjects CTE); it lists no participants (the per-run report does), which "
        "the bare SQL still fetches, so the first ratio slightly favours the platform."
    )
    ctx.log(f"report: {platform_seconds:.3f}s vs {bare_seconds:.3f}s ({ratio:.2f})")
    return section


# --- 4. Reminders: planning and sending ----------------------------------------------------------


def _notification_columns() -> list[str]:
    from notifications.models import Notification

    return [f.column for f in Notification._meta.concrete_fields if not f.primary_key]


def reminders(ctx: Context) -> Section:
    from core import rls
    from core.tenancy import tenant_guard
    from notifications import services
    from notifications.models import Kind, Notification
    from programs.models import Milestone

    size, organization = ctx.size, _organization(ctx)
    section = Section(
        key="reminders",
        title=f"4. Reminders: planning {size.due_items:,} due items, sending {size.send_messages:,}",
        columns=["what", "platform", "baseline", "ratio", "target", "met"],
    )
    today = local_today()
    with tenant_guard(), rls.organization_context(organization.id):
        # Every milestone of every run is due today: one "due today" reminder per enrollment and milestone.
        Milestone.objects.for_organization(organization).update(due_on=today)
        # Any hour, any day: the bench may run at night in Seoul (quiet hours would hold every row).
        services.notification_settings_update(
            organization=organization,
            enabled_kinds=[Kind.MILESTONE_DUE_TODAY.value],
            quiet_hours_start=0,
            quiet_hours_end=0,
            working_days=[1, 2, 3, 4, 5, 6, 7],
            skip_public_holidays=False,
        )
    now = datetime.datetime.now(datetime.UTC)
    started = time.perf_counter()
    with tenant_guard(), rls.organization_context(organization.id):
        created = services.notifications_plan(organization=organization, now=now, respect_send_window=False)
    plan_seconds = time.perf_counter() - started
    if created != size.due_items:
        raise RuntimeError(f"planning wrote {created} rows, expected {size.due_items}")
    ctx.log(f"planned {created:,} reminders in {plan_seconds:.1f}s")

    # The raw baseline: the same rows, already rendered, with one multi-row INSERT per 1,000.
    columns = _notification_columns()
    table = Notification._meta.db_table
    connection = _app_connection(ctx, organization.id)
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT {} FROM {} WHERE organization_id = %s ORDER BY id").format(
                sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table)
            ),
            [organization.id],
        )
        rows = cursor.fetchall()
        delete = sql.SQL("DELETE FROM {} WHERE organization_id = %s").format(sql.Identifier(table))
        cursor.execute(delete, [organization.id])
    connection.commit()
    payload_index = columns.index("payload")
    rows = [tuple(Jsonb(v) if i == payload_index else v for i, v in enumerate(row)) for row in rows]
    batch = 1000
    placeholder = sql.SQL("({})").format(sql.SQL(", ").join(sql.Placeholder() * len(columns)))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for offset in range(0, len(rows), batch):
            chunk = rows[offset : offset + batch]
            statement = sql.SQL("INSERT INTO {} ({}) VALUES {} ON CONFLICT DO NOTHING").format(
                sql.Identifier(table),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join([placeholder] * len(chunk)),
            )
            cursor.execute(statement, [value for row in chunk for value in row])
    connection.commit()
    insert_seconds = time.perf_counter() - started
    ratio = plan_seconds / insert_seconds
    section.rows.append(
        [
            f"plan {size.due_items:,} due reminders (s) vs raw bulk INSERT of the same rows (s)",
            f"{plan_seconds:.2f}",
            f"{insert_seconds:.2f}",
            f"{ratio:.1f}",
            "≤ 2.0",
            _met(ratio <= 2),
        ]
    )
    section.data.update({"plan_s": plan_seconds, "insert_s": insert_seconds, "plan_ratio": ratio, "rows": created})
    ctx.log(f"raw insert {insert_seconds:.2f}s ({ratio:.1f})")

    if not ctx.redis_url:
        section.notes.append("Sending skipped: no Redis (set BENCH_REDIS_URL or REDIS_URL).")
        connection.close()
        return section
    _sending(ctx, section, organization, connection)
    connection.close()
    return section


def _sent_count(connection, organization) -> int:
    from notifications.models import Notification

    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT COUNT(*) FROM {} WHERE organization_id = %s AND status = 'sent'").format(
                sql.Identifier(Notification._meta.db_table)
            ),
            [organization.id],
        )
        sent = cursor.fetchone()[0]
    connection.commit()
    return sent


def _wait_until_sent(ctx: Context, connection, organization, expected: int, deadline: float, workers) -> None:
    while True:
        sent = _sent_count(connection, organization)
        if sent >= expected:
            return
        if time.monotonic() > deadline:
            logs = "\n".join(ctx.processes.log(name)[-3000:] for name in workers)
            raise RuntimeError(f"only {sent} of {expected} sent:\n{logs}")
        time.sleep(0.05)


def _sending(ctx: Context, section: Section, organization, connection) -> None:
    import redis

    from bench.celery_app import COUNTER_KEY, noop
    from bench.processes import SmtpSink
    from notifications.models import Notification
    from notifications.tasks import relay_organization

    size = ctx.size
    n = size.send_messages
    table = Notification._meta.db_table
    with connection.cursor() as cursor:
        # The first ``send_messages`` rows due; the next ``send_messages`` held back (due tomorrow) for the
        # two-worker measurement; the rest cancelled (not part of this measurement).
        cursor.execute(
            sql.SQL(
                "WITH ranked AS (SELECT id, row_number() OVER (ORDER BY next_attempt_at, id) AS rank FROM {t} "
                "WHERE organization_id = %(org)s) "
                "UPDATE {t} SET status = CASE WHEN ranked.rank <= 2 * %(n)s THEN status ELSE 'cancelled' END, "
                "next_attempt_at = CASE WHEN ranked.rank > %(n)s THEN now() + interval '1 day' "
                "ELSE next_attempt_at END "
                "FROM ranked WHERE {t}.id = ranked.id"
            ).format(t=sql.Identifier(table)),
            {"org": organization.id, "n": n},
        )
    connection.commit()
    broker = redis.Redis.from_url(ctx.redis_url)
    broker.flushdb()  # this run's own Redis database: drop the relay doorbells rung while planning
    with SmtpSink() as sink:
        env = {"EMAIL_URL": sink.url}
        worker = ctx.processes.celery_worker("worker", extra_env=env)
        started = time.perf_counter()
        relay_organization.delay(organization_id=organization.id, fan_out=True)  # a doorbell, as planning rings
        deadline = time.monotonic() + 600
        _wait_until_sent(ctx, connection, organization, n, deadline, ["worker"])
        send_seconds = time.perf_counter() - started
        if sink.count < n:
            raise RuntimeError(f"the SMTP sink got {sink.count} messages, expected {n}")
        broker.delete(COUNTER_KEY)
        started = time.perf_counter()
        for _ in range(size.noop_tasks):
            noop.delay()
        while int(broker.get(COUNTER_KEY) or 0) < size.noop_tasks:
            if time.monotonic() > deadline:
                raise RuntimeError("no-op tasks did not finish")
            time.sleep(0.02)
        noop_seconds = time.perf_counter() - started
        ctx.processes.stop(worker)

        # Two worker processes (concurrency 1 each) on the held-back rows, rung once as planning rings.
        broker.flushdb()
        workers = [ctx.processes.celery_worker(name, extra_env=env) for name in ("worker-a", "worker-b")]
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL(
                    "UPDATE {t} SET next_attempt_at = now() WHERE organization_id = %s AND status = 'pending'"
                ).format(t=sql.Identifier(table)),
                [organization.id],
            )
        connection.commit()
        started = time.perf_counter()
        relay_organization.delay(organization_id=organization.id, fan_out=True)  # a doorbell, as planning rings
        deadline = time.monotonic() + 600
        _wait_until_sent(ctx, connection, organization, 2 * n, deadline, ["worker-a", "worker-b"])
        two_seconds = time.perf_counter() - started
        if sink.count < 2 * n:
            raise RuntimeError(f"the SMTP sink got {sink.count} messages, expected {2 * n}")
        shares = [ctx.processes.log(name).count("sent notification") for name in ("worker-a", "worker-b")]
        for process in workers:
            ctx.processes.stop(process)
    send_rate = n / send_seconds
    noop_rate = size.noop_tasks / noop_seconds
    two_rate = n / two_seconds
    scaling = two_rate / send_rate
    section.rows.append(
        [
            f"send {n:,} emails to an SMTP sink, one worker (msg/s) vs no-op tasks (tasks/s)",
            f"{send_rate:.1f}",
            f"{noop_rate:.1f}",
            f"{send_rate / noop_rate:.2f}",
            "(measured)",
            "",
        ]
    )
    section.rows.append(
        [
            f"send {n:,} emails, two worker processes (msg/s) vs one worker (msg/s)",
            f"{two_rate:.1f}",
            f"{send_rate:.1f}",
            f"{scaling:.2f}",
            "≥ 1.8",
            _met(scaling >= 1.8),
        ]
    )
    section.data.update(
        {
            "send_per_s": send_rate,
            "noop_per_s": noop_rate,
            "send_ratio": send_rate / noop_rate,
            "send_two_workers_per_s": two_rate,
            "send_scaling": scaling,
            "send_two_workers_shares": shares,
        }
    )
    section.notes.append(
        "Planning: notifications.services.notifications_plan (reads, rules, rendering text and HTML of every "
        "message, one INSERT ... ON CONFLICT DO NOTHING per batch) for milestones all due today, only the "
        "'due today' kind switched on. Baseline: the rows it wrote, read back and inserted again with psycopg, "
        "1,000 per statement. Sending: a real Celery worker (concurrency 1, Redis broker) runs the relay task, "
        "which claims, sends and marks each row in its own transaction; no-op: the same worker running a task "
        "that only counts itself. Two workers: two `celery worker` processes (concurrency 1 each) send another "
        f"{n:,} rows held back until then, after one ring of the relay (as planning rings it); messages sent by "
        f"each: {shares[0]:,} and {shares[1]:,}."
    )
    ctx.log(f"send {send_rate:.1f}/s vs noop {noop_rate:.1f}/s; two workers {two_rate:.1f}/s ({scaling:.2f}x)")


# --- 5. Import -------------------------------------------------------------------------------------


def _import_files(size: Size) -> list[tuple[str, bytes]]:
    from programs.imports import MAX_ROWS

    files = []
    for start in range(0, size.import_rows, MAX_ROWS):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["이름", "이메일", "전화", "회사", "단계", "언어", "상태", "성공의 정의"])
        for i in range(start, min(size.import_rows, start + MAX_ROWS)):
            name, email, company = f"새 참가자 {i:05d}", f"new{i:05d}@bench.test", f"회사 {i % 300}"
            writer.writerow([name, email, "010-0000-0000", company, "mvp", "ko", "진행", "첫 매출"])
        files.append((f"participants-{start // MAX_ROWS + 1}.csv", buffer.getvalue().encode("utf-8-sig")))
    return files


def imports(ctx: Context) -> Section:
    from core import rls
    from core.tenancy import tenant_guard
    from programs import services
    from programs.imports import import_apply
    from programs.models import Participant, Program

    size, organization = ctx.size, _organization(ctx)
    files = _import_files(size)
    today = local_today()
    with tenant_guard(), rls.organization_context(organization.id):
        program = Program.objects.for_organization(organization).order_by("id").first()
        run = services.run_create(
            organization=organization,
            program=program,
            name="가져오기 벤치",
            starts_on=today,
            ends_on=today + datetime.timedelta(days=60),
            final_deadline=today + datetime.timedelta(days=50),
        )
    started = time.perf_counter()
    for filename, content in files:
        with tenant_guard(), rls.organization_context(organization.id):  # one transaction per file, as in the admin
            report = import_apply(organization=organization, run=run, filename=filename, content=content)
        if not report.applied:
            raise RuntimeError(f"import refused: {report.file_errors} {[r.errors for r in report.error_rows][:3]}")
    import_seconds = time.perf_counter() - started
    ctx.log(f"imported {size.import_rows:,} rows in {import_seconds:.1f}s")

    # Baseline: the same files parsed with csv and written with COPY into the second organization.
    copy_org = ctx.dataset.copy_organization_id
    # PostgreSQL refuses COPY FROM into tables with row-level security for roles subject to
    # it, so the baseline writes as the owner (as an operator's bulk load would).
    connection = psycopg.connect(dsn(ctx.owner_url))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO programs_program (organization_id, name, description, promised_value, created_at, updated_at) "
            "VALUES (%s, 'Copy', '', '', now(), now()) RETURNING id",
            [copy_org],
        )
        program_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO programs_run (organization_id, program_id, name, starts_on, ends_on, final_deadline, status, "
            "checkin_cadence_days, skip_non_working_days, calendar_token, created_at, updated_at) "
            "VALUES (%s, %s, 'Copy', %s, %s, %s, 'active', 7, true, md5(random()::text), now(), now()) RETURNING id",
            [copy_org, program_id, today, today + datetime.timedelta(days=60), today + datetime.timedelta(days=50)],
        )
        copy_run_id = cursor.fetchone()[0]
    connection.commit()
    participant_columns = [f.column for f in Participant._meta.concrete_fields]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for _filename, content in files:
            rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))[1:]
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence('programs_participant', 'id')) FROM generate_series(1, %s)",
                [len(rows)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            now = datetime.datetime.now(datetime.UTC)
            with cursor.copy(
                sql.SQL("COPY programs_participant ({}) FROM STDIN").format(
                    sql.SQL(", ").join(map(sql.Identifier, participant_columns))
                )
            ) as copy:
                for pid, (name, email, phone, company, stage, language, *_rest) in zip(ids, rows, strict=True):
                    values = {
                        "id": pid,
                        "organization_id": copy_org,
                        "created_at": now,
                        "updated_at": now,
                        "name": name,
                        "email": email,
                        "phone": phone,
                        "company": company,
                        "stage": stage,
                        "tags": Jsonb([]),
                        "language": language,
                    }
                    copy.write_row([values.get(column, "") for column in participant_columns])
            with cursor.copy(
                "COPY programs_enrollment (organization_id, run_id, participant_id, status, success_definition, "
                "commitments, needs, industry, stage, mentor_wish, created_at, updated_at) FROM STDIN"
            ) as copy:
                for pid, row in zip(ids, rows, strict=True):
                    copy.write_row([copy_org, copy_run_id, pid, "active", row[7], "", Jsonb([]), "", "", "", now, now])
    connection.commit()
    copy_seconds = time.perf_counter() - started
    connection.close()
    ratio = import_seconds / copy_seconds
    section = Section(
        key="import",
        title=f"5. Importing {size.import_rows:,} participants from CSV",
        columns=["what", "platform s", "raw COPY s", "ratio", "target", "met"],
    )
    section.rows.append(
        [
            f"import_apply() of {len(files)} file(s) into a new run",
            f"{import_seconds:.2f}",
            f"{copy_seconds:.3f}",
            f"{ratio:.1f}",
            "≤ 10",
            _met(ratio <= 10),
        ]
    )
    section.data = {"import_s": import_seconds, "copy_s": copy_seconds, "ratio": ratio, "files": len(files)}
    section.notes.append(
        "Platform: programs.imports.import_apply per file (at most programs.imports.MAX_ROWS rows each), which "
        "validates every row (each field's checks as full_clean runs them, without per-row queries), then writes "
        "participants, enrollments and their audit events with one INSERT ... SELECT FROM unnest() per table and "
        "file (arrays bound server-side in binary; bulk_update for changed rows) and emits the integration events "
        "subscribed to. Baseline: csv parsing plus COPY of the participants and enrollments, as the table owner "
        "(PostgreSQL allows no COPY FROM under row-level security)."
    )
    ctx.log(f"copy {copy_seconds:.3f}s ({ratio:.1f})")
    return section


# --- 6. Admin pages ------------------------------------------------------------------------------


def _verified_second_step(client, user) -> None:
    """Mark the session as having passed two-step verification (what the admin log-in does)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _created = TOTPDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


ADMIN_TARGET_MS = 300.0  # issue #15: every admin page at the large size within this, server time


def _seed_outbox(ctx: Context) -> int:
    """Fill the outbox with one reminder per enrollment and milestone, unless the reminders section did.

    Rows as planning writes them (a rendered subject, text and HTML), scheduled at 09:00 local on
    each milestone's due day: sent when that is past (one in 50 failed), pending otherwise. Written
    with COPY as the table owner (seconds, against about a minute through the planner). Returns
    how many rows the outbox of the organization holds.
    """
    from bench.dataset import SEOUL, Loader
    from notifications.models import Kind, Notification

    organization_id = ctx.dataset.organization_id
    with psycopg.connect(dsn(ctx.owner_url)) as connection:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM notifications_notification WHERE organization_id = %s", [organization_id]
            )
            existing = cursor.fetchone()[0]
            if existing:
                return existing  # the reminders section's rows
            cursor.execute(
                "SELECT e.id, e.run_id, p.email, p.name, m.id, m.name, m.due_on "
                "FROM programs_enrollment e JOIN programs_participant p ON p.id = e.participant_id "
                "JOIN programs_milestone m ON m.run_id = e.run_id "
                "WHERE e.organization_id = %s ORDER BY m.due_on, e.id, m.id",
                [organization_id],
            )
            due = cursor.fetchall()
        now = datetime.datetime.now(datetime.UTC)
        html = (
            "<p>{name}님, 안녕하세요.</p><p>오늘은 <strong>{milestone}</strong> 마감일입니다.</p>"
            + "<p>"
            + "…" * 600
            + "</p>"
        )

        def rows():
            for index, (enrollment_id, run_id, email, name, milestone_id, milestone, due_on) in enumerate(due):
                scheduled = datetime.datetime.combine(due_on, datetime.time(9), SEOUL).astimezone(datetime.UTC)
                past = scheduled < now
                status = Notification.Status.PENDING
                if past:
                    status = Notification.Status.FAILED if index % 50 == 0 else Notification.Status.SENT
                yield {
                    "organization_id": organization_id,
                    "kind": Kind.MILESTONE_DUE_TODAY.value,
                    "subject_key": f"milestone:{milestone_id}:enrollment:{enrollment_id}",
                    "slot": f"due:{due_on.isoformat()}",
                    "recipient": email,
                    "recipient_name": name,
                    "language": "ko",
                    "run_id": run_id,
                    "reason": f"{milestone} 마감일이 오늘입니다.",
                    "subject_line": f"[벤치 창업학교] 오늘 마감: {milestone}",
                    "body_text": f"{name}님, 오늘은 {milestone} 마감일입니다.\n" + "…" * 300,
                    "body_html": html.format(name=name, milestone=milestone),
                    "payload": {},
                    "status": status,
                    "scheduled_for": scheduled,
                    "next_attempt_at": scheduled,
                    "attempts": 1 if past else 0,
                    "sent_at": scheduled + datetime.timedelta(seconds=30)
                    if status == Notification.Status.SENT
                    else None,
                    "last_error": "550 mailbox unavailable" if status == Notification.Status.FAILED else "",
                }

        Loader(connection).copy(Notification, rows())
    with psycopg.connect(dsn(ctx.owner_url), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE notifications_notification")  # as autovacuum would after the load
    return existing + len(due)


def admin_pages(ctx: Context) -> Section:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from core.models import User

    dataset = ctx.dataset
    outbox_rows = _seed_outbox(ctx)
    ctx.log(f"admin: the outbox holds {outbox_rows:,} rows")
    client = Client(HTTP_HOST="127.0.0.1")
    pm = User.objects.get(pk=dataset.pm_user_id)
    client.force_login(pm)
    _verified_second_step(client, pm)  # as in production: owners and PMs log in with two-step verification
    run_id = dataset.run_ids[0]
    pages = [
        ("enrollments (changelist)", "/admin/programs/enrollment/"),
        ("runs (changelist)", "/admin/programs/run/"),
        ("run page (change form, D-n timeline, inlines)", f"/admin/programs/run/{run_id}/change/"),
        ("run dashboard", f"/admin/programs/run/{run_id}/dashboard/"),
        ("assessments (changelist)", "/admin/assessments/assessment/"),
        (f"outbox (changelist, {outbox_rows:,} rows)", "/admin/notifications/notification/"),
    ]
    section = Section(
        key="admin",
        title="6. Admin pages at this size",
        columns=["page", "queries", "server ms (best)", "HTML KiB", "target", "met"],
    )
    client.get("/admin/")  # warm: admin templates, translations, the session
    for label, url in pages:
        # The first load is timed too: a page that takes seconds is not loaded again.
        timings, queries = [], []
        for _ in range(ctx.size.admin_repeats):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url)
                timings.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} answered {response.status_code}")
            queries.append(len(captured))
            if timings[-1] > SLOW_PAGE_SECONDS:
                break
        kib = len(response.content) / 1024
        best_ms = min(timings) * 1000
        met = best_ms <= ADMIN_TARGET_MS
        section.rows.append(
            [label, max(queries), f"{best_ms:,.0f}", f"{kib:,.0f}", f"≤ {ADMIN_TARGET_MS:,.0f} ms", _met(met)]
        )
        section.data[url] = {"queries": max(queries), "ms": best_ms, "kib": kib, "met": met}
        ctx.log(f"admin {url}: {max(queries)} queries, {best_ms:,.0f} ms")
    section.data["/admin/notifications/notification/"]["rows"] = outbox_rows
    section.notes.append(
        "In-process Django test client logged in as a program manager (session, RLS context, DEBUG off); "
        f"the time includes template rendering (a page slower than {SLOW_PAGE_SECONDS:.0f} s is loaded once). "
        "Target (issue #15): each page within "
        f"{ADMIN_TARGET_MS:,.0f} ms server time, with a query count that does not grow with the rows. The outbox "
        "holds the reminders section's rows, or, when that section did not run, as many written directly "
        "(one per enrollment and milestone, scheduled on the milestone's due day)."
    )
    return section

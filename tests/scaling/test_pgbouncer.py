"""The platform behind PgBouncer in transaction pooling mode: no RLS context leaks (docs/scaling.md).

A PgBouncer of the test's own (``pool_mode = transaction``, two server connections)
stands between the application role and the test database. Several threads, each
with its own Django connection to PgBouncer, do what requests and tasks do, at the
same time, for two organizations: open a transaction, set the row-level-security
context with the functions of :mod:`core.rls` (the middleware's, the API's and the
tasks' ways), read and try to write. Every read must return the own organization's
rows only, and a transaction that sets no context must see nothing, also on a server
connection that a transaction of another organization used just before it (the
server-side order is taken from ``pg_backend_pid()`` and ``transaction_timestamp()``).

A control proves that the pool really hands one server connection to several clients:
there, a session-level setting (which the platform never makes) does leak.

PgBouncer missing: skipped on a laptop, a failure in CI (``CI=true``).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.utils import load_backend

from core import rls
from core.tenancy import tenant_guard
from programs.models import Enrollment, Program
from tests.factories.core import OrganizationFactory
from tests.factories.programs import EnrollmentFactory, RunFactory
from tests.fixtures.services import _unavailable

ROOT = Path(__file__).resolve().parents[2]
ALIAS = "pgbouncer"
POOL_SIZE = 2
THREADS = 6
ITERATIONS = 200


# --- PgBouncer -----------------------------------------------------------------------


def _pgbouncer_binary() -> str | None:
    found = shutil.which("pgbouncer")
    if found:
        return found
    return "/usr/sbin/pgbouncer" if os.access("/usr/sbin/pgbouncer", os.X_OK) else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


@dataclass(frozen=True)
class PgBouncer:
    port: int
    database: str  # the test database, under its own name: pool of POOL_SIZE
    control_database: str  # the same database with a pool of ONE server connection
    user: str
    password: str

    def dsn(self, database: str) -> str:
        return psycopg.conninfo.make_conninfo(
            host="127.0.0.1", port=self.port, dbname=database, user=self.user, password=self.password or None
        )


@pytest.fixture(scope="module")
def pgbouncer(django_db_setup):
    """A PgBouncer in transaction pooling mode in front of the test database; stopped at the end."""
    default = connections[DEFAULT_DB_ALIAS].settings_dict
    if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
        _unavailable("PostgreSQL (set DATABASE_URL=postgres://...)")
    binary = _pgbouncer_binary()
    if binary is None:
        _unavailable("pgbouncer (apt-get install pgbouncer)")
    user, password = default["USER"], default["PASSWORD"] or ""
    name = default["NAME"]
    server = f"host={default['HOST'] or '127.0.0.1'} port={default['PORT'] or 5432} dbname={name}"
    directory = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    port = _free_port()
    (directory / "users.txt").write_text(f"{_quoted(user)} {_quoted(password)}\n")
    (directory / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"{name} = {server}\n"
        f"{name}_control = {server} pool_size=1\n"
        "[pgbouncer]\n"
        "listen_addr = 127.0.0.1\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\n"
        "auth_type = trust\n"
        f"auth_file = {directory / 'users.txt'}\n"
        "pool_mode = transaction\n"
        f"default_pool_size = {POOL_SIZE}\n"
        "min_pool_size = 0\n"
        "reserve_pool_size = 0\n"
        "max_client_conn = 50\n"
        f"logfile = {directory / 'pgbouncer.log'}\n"
    )
    args = [binary]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root: let it switch to an ordinary user
        for candidate in ("postgres", "nobody"):
            try:
                account = pwd.getpwnam(candidate)
            except KeyError:
                continue
            for path in (directory, *directory.iterdir()):
                os.chown(path, account.pw_uid, account.pw_gid)
            args += ["-u", candidate]
            break
    args.append(str(directory / "pgbouncer.ini"))
    process = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True, cwd=directory
    )

    def log() -> str:
        path = directory / "pgbouncer.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                pytest.fail(f"pgbouncer exited with {process.returncode}:\n{log()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"pgbouncer did not listen on {port}:\n{log()}")
                time.sleep(0.05)
        yield PgBouncer(port=port, database=name, control_database=f"{name}_control", user=user, password=password)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


# --- The production switch -------------------------------------------------------------


def _production_database_settings(**environment: str) -> dict:
    """``DATABASES["default"]`` of config.settings.production, as a process with ``environment`` reads it."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "x7$Kq!9vLm2#Zp8RtY4wNc6&Hj1Fd3Bs5Gx0Ue-Ai+Oo_Ll=Mm",
        "DATABASE_URL": "postgres://cohort_app@pgbouncer.internal:6432/cohort",
        **environment,
    }
    if "DATABASE_POOLER" not in environment:
        env.pop("DATABASE_POOLER", None)
    script = (
        "import json; from config.settings import production as s; d = s.DATABASES['default']; "
        "print(json.dumps({k: d.get(k) for k in ('HOST', 'PORT', 'DISABLE_SERVER_SIDE_CURSORS', 'OPTIONS', "
        "'CONN_MAX_AGE', 'ATOMIC_REQUESTS')}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def pooled_settings():
    return _production_database_settings(DATABASE_POOLER="pgbouncer")


def test_database_pooler_pgbouncer_turns_off_what_transaction_pooling_cannot_carry(pooled_settings):
    assert pooled_settings["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert "prepare_threshold" in pooled_settings["OPTIONS"]
    assert pooled_settings["OPTIONS"]["prepare_threshold"] is None
    assert pooled_settings["ATOMIC_REQUESTS"] is True  # every request is one transaction
    assert (pooled_settings["HOST"], pooled_settings["PORT"]) == ("pgbouncer.internal", 6432)

    direct = _production_database_settings()
    assert not direct.get("DISABLE_SERVER_SIDE_CURSORS")  # without a pooler: unchanged

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production", "SECRET_KEY": "x" * 50}
    env["DATABASE_POOLER"] = "pgpool"
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings.production"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "DATABASE_POOLER" in result.stderr


# --- Two organizations and the pooled alias ------------------------------------------------


@dataclass(frozen=True)
class Tenant:
    organization_id: int
    slug: str
    programs: frozenset[int]
    runs: frozenset[int]
    enrollments: frozenset[int]
    participants: frozenset[int]


def _tenant(*, runs: int, enrollments_per_run: int) -> Tenant:
    organization = OrganizationFactory()
    made_runs = [RunFactory(program__organization=organization) for _ in range(runs)]
    enrollments = [EnrollmentFactory(run=run) for run in made_runs for _ in range(enrollments_per_run)]
    return Tenant(
        organization_id=organization.pk,
        slug=organization.slug,
        programs=frozenset(run.program_id for run in made_runs),
        runs=frozenset(run.pk for run in made_runs),
        enrollments=frozenset(e.pk for e in enrollments),
        participants=frozenset(e.participant_id for e in enrollments),
    )


NOBODY = Tenant(0, "", frozenset(), frozenset(), frozenset(), frozenset())


@pytest.fixture
def tenants(transactional_db):
    """Two organizations with their own programs, runs, participants and enrollments (committed)."""
    a = _tenant(runs=2, enrollments_per_run=3)
    b = _tenant(runs=3, enrollments_per_run=3)
    assert a.enrollments and b.enrollments and not (a.programs & b.programs)
    return a, b


@pytest.fixture
def pooled_database(pgbouncer, pooled_settings, tenants):
    """Settings of a connection through PgBouncer: the default's, with the production switch's values.

    Each client thread opens its own connection with them under the alias ``pgbouncer``
    (registered per thread, like Django's own per-thread connections, not in
    ``DATABASES``: the test case allows only ``default``).
    """
    settings_dict = copy.deepcopy(connections[DEFAULT_DB_ALIAS].settings_dict)
    settings_dict.update(
        HOST="127.0.0.1",
        PORT=str(pgbouncer.port),
        DISABLE_SERVER_SIDE_CURSORS=pooled_settings["DISABLE_SERVER_SIDE_CURSORS"],
    )
    settings_dict["OPTIONS"] = {**settings_dict["OPTIONS"], **pooled_settings["OPTIONS"]}
    return settings_dict


@contextlib.contextmanager
def _pooled_connection(settings_dict: dict):
    """``connections["pgbouncer"]`` in this thread, closed and removed at the end."""
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(copy.deepcopy(settings_dict), alias=ALIAS)
    connections[ALIAS] = wrapper
    try:
        yield wrapper
    finally:
        wrapper.close()
        del connections[ALIAS]


# --- What a request does, through the pool -----------------------------------------------------

# How a unit of work sets its context (core.rls), and for whom.
WAYS = (
    ("activate", "a"),  # the middleware (session's organization), TenantTask
    ("slug", "b"),  # the middleware on /api/v1/orgs/<slug>/ (one statement: lookup and setting)
    ("none", None),  # a transaction that sets nothing at all
    ("context", "a"),  # organization_context(): commands, scripts
    ("activate", "b"),
    ("deactivate", None),  # an anonymous request
    ("slug", "a"),
    ("context", "b"),
)

SESSION_LEVEL = re.compile(r"^\s*(SET\s+(?!LOCAL\b)|RESET\b|PREPARE\b|DECLARE\b|LISTEN\b|DISCARD\b)", re.IGNORECASE)


@dataclass(frozen=True)
class Seen:
    thread: int
    way: str
    who: str | None
    pid: int
    started: object  # transaction_timestamp()


class _Statements:
    """Every statement the thread's connection sends (``execute_wrapper``), checked afterwards."""

    def __init__(self):
        self.sql: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        self.sql.append(sql)
        return execute(sql, params, many, context)

    def session_level(self) -> list[str]:
        wrong = [sql for sql in self.sql if SESSION_LEVEL.match(sql) or "pg_advisory_lock(" in sql]
        wrong += [sql for sql in self.sql if sql.count("set_config(") != len(re.findall(r",\s*true\)", sql))]
        return wrong


def _unit_of_work(alias: str, way: str, tenant: Tenant):
    """The transaction and context of one request or task, as the platform opens them."""
    stack = contextlib.ExitStack()
    stack.enter_context(tenant_guard())
    stack.enter_context(rls.request_scope(using=alias))
    if way == "context":
        stack.enter_context(rls.organization_context(tenant.organization_id, using=alias))
        return stack
    stack.enter_context(transaction.atomic(using=alias))
    if way == "activate":
        rls.activate(tenant.organization_id, using=alias)
    elif way == "slug":
        rls.activate_organization_slug(tenant.slug, using=alias)
    elif way == "deactivate":
        rls.deactivate(using=alias)
    return stack


def _reads(alias: str, both: list[int], expected: Tenant, other: Tenant, problems: list[str], label: str) -> tuple:
    """Read as a view would, with an application filter that admits BOTH organizations: RLS alone decides."""
    programs = set(Program.objects.using(alias).filter(organization_id__in=both).values_list("id", flat=True))
    enrollments, runs, participants = set(), set(), set()
    for enrollment in (
        Enrollment.objects.using(alias)
        .filter(organization_id__in=both)
        .select_related("run", "participant")  # each joined table has its own policy
        .iterator(chunk_size=4)  # client-side: DISABLE_SERVER_SIDE_CURSORS
    ):
        enrollments.add(enrollment.pk)
        runs.add(enrollment.run.pk)
        participants.add(enrollment.participant.pk)
        if {enrollment.run.organization_id, enrollment.participant.organization_id} != {expected.organization_id}:
            problems.append(
                f"{label}: enrollment {enrollment.pk} of organization {enrollment.organization_id} with run of "
                f"{enrollment.run.organization_id}, participant of {enrollment.participant.organization_id}"
            )
    for what, got, wanted in (
        ("programs", programs, expected.programs),
        ("enrollments", enrollments, expected.enrollments),
        ("runs", runs, expected.runs),
        ("participants", participants, expected.participants),
    ):
        if got != wanted:
            problems.append(f"{label}: {what} {sorted(got)} != {sorted(wanted)}")
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), transaction_timestamp(), current_setting('TimeZone')")
        return cursor.fetchone()


def _writes_refused(alias: str, both: list[int], other: Tenant, problems: list[str], label: str) -> None:
    """The other organization's rows cannot be updated (USING hides them) nor new ones inserted (WITH CHECK)."""
    touched = (
        Program.objects.using(alias)
        .filter(organization_id__in=both, id__in=other.programs)
        .update(promised_value="leaked")
    )
    if touched:
        problems.append(f"{label}: updated {touched} row(s) of the other organization")
    if not _insert_refused(alias, other.organization_id):
        problems.append(f"{label}: an insert into organization {other.organization_id} was not refused")


def _insert_refused(alias: str, organization_id: int) -> bool:
    """A row for ``organization_id`` cannot be inserted (WITH CHECK); the savepoint keeps the transaction."""
    try:
        with transaction.atomic(using=alias):
            Program.objects.using(alias).bulk_create([Program(organization_id=organization_id, name="smuggled")])
    except DatabaseError as error:
        return "row-level security" in str(error)
    return False


def _serve(number: int, database: dict, tenants: dict, start: threading.Barrier, seen: list, problems: list) -> None:
    """One client: its own connection to PgBouncer, ITERATIONS units of work for A, B and nobody in turn."""
    a, b = tenants["a"], tenants["b"]
    both = [a.organization_id, b.organization_id]
    alias = ALIAS
    statements = _Statements()
    try:
        with _pooled_connection(database) as wrapper, wrapper.execute_wrapper(statements):
            start.wait(timeout=30)
            for iteration in range(ITERATIONS):
                way, who = WAYS[(number + iteration) % len(WAYS)]
                expected = tenants[who] if who else NOBODY
                other = b if who == "a" else a if who == "b" else NOBODY
                label = f"thread {number} #{iteration} {way}({who})"
                with _unit_of_work(alias, way, expected):
                    pid, started, zone = _reads(alias, both, expected, other, problems, label)
                    if iteration % 10 == number % 10:
                        _writes_refused(alias, both, other if who else a, problems, label)
                if zone != wrapper.timezone_name:
                    problems.append(f"{label}: TimeZone {zone} on backend {pid}")
                seen.append(Seen(number, way, who, pid, started))
            assert wrapper.connection.prepare_threshold is None  # psycopg 3 prepares nothing
        problems.extend(f"thread {number}: session-level statement {sql!r}" for sql in statements.session_level())
    except Exception:
        problems.append(f"thread {number}: {traceback.format_exc()}")


def test_rls_context_never_leaks_across_pooled_connections(pooled_database, tenants):
    a, b = tenants
    seen: list[Seen] = []
    problems: list[str] = []
    start = threading.Barrier(THREADS)
    threads = [
        threading.Thread(target=_serve, args=(n, pooled_database, {"a": a, "b": b}, start, seen, problems))
        for n in range(THREADS)
    ]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    elapsed = time.monotonic() - began
    assert not any(thread.is_alive() for thread in threads), "a client thread hung"
    assert not problems, "\n".join(problems[:20])
    assert len(seen) == THREADS * ITERATIONS

    # The pool was really shared: THREADS clients, at most POOL_SIZE server connections.
    backends: dict[int, list[Seen]] = defaultdict(list)
    for record in seen:
        backends[record.pid].append(record)
    assert 1 <= len(backends) <= POOL_SIZE < THREADS, sorted(backends)
    # And the hand-overs the test is about happened, on the server side, many times:
    # organization A's transaction, then B's (or B's then A's), and a transaction of one
    # organization followed by one that set no context, on the same server connection.
    other_organization = after_an_organization = from_another_client = 0
    for records in backends.values():
        records.sort(key=lambda record: record.started)
        for before, after in zip(records, records[1:], strict=False):
            if before.who is None:
                continue
            other_organization += after.who is not None and after.who != before.who
            after_an_organization += after.who is None
            from_another_client += after.thread != before.thread
    print(
        f"\n{len(seen)} transactions by {THREADS} clients on {len(backends)} server connection(s) in "
        f"{elapsed:.2f} s ({len(seen) / elapsed:.0f}/s); hand-overs on one server connection: "
        f"organization → other organization {other_organization}, organization → no context "
        f"{after_an_organization}, to another client {from_another_client}"
    )
    assert other_organization >= 20
    assert after_an_organization >= 20
    assert from_another_client >= 20


def test_the_pool_shares_server_connections_so_a_session_level_setting_would_leak(pgbouncer, tenants):
    """The control: what SET LOCAL protects against is real in this pool.

    The platform never makes a session-level setting (the migrate hooks run against
    PostgreSQL directly); this test does, on a pool of one server connection, to show
    that the next client would inherit it, and that the transaction-scoped setting the
    platform makes is gone after its transaction.
    """
    a, _b = tenants
    count = "SELECT count(*), pg_backend_pid() FROM programs_program"
    dsn = pgbouncer.dsn(pgbouncer.control_database)
    with (
        psycopg.connect(dsn, autocommit=True, prepare_threshold=None) as first,
        psycopg.connect(dsn, autocommit=True, prepare_threshold=None) as second,
    ):
        with first.transaction():  # what core.rls does: set_config(..., true), i.e. SET LOCAL
            first.execute("SELECT set_config('app.organization_id', %s, true)", [str(a.organization_id)])
            own, first_pid = first.execute(count).fetchone()
        assert own == len(a.programs)
        with second.transaction():
            inherited, second_pid = second.execute(count).fetchone()
        assert second_pid == first_pid, "one server connection for both clients"
        assert inherited == 0

        first.execute("SELECT set_config('app.organization_id', %s, false)", [str(a.organization_id)])  # session
        try:
            with second.transaction():
                leaked, second_pid = second.execute(count).fetchone()
            assert second_pid == first_pid
            assert leaked == len(a.programs), "a session-level setting leaks to the next client of the pool"
        finally:
            first.execute("RESET app.organization_id")

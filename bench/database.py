"""The benchmark's own PostgreSQL database: created from a migrated template, dropped at will.

Migrating takes longer than everything a smoke run measures, so the migrated,
still empty schema is kept as ``<name>_template`` and reused while the migrations
are unchanged (their hash is the template's comment). Each run clones it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, unquote, urlparse, urlunparse

import psycopg
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_cohort"
SETTINGS_MODULE = "bench.settings"


def database_name(url: str) -> str:
    return unquote(urlparse(url).path.lstrip("/"))


def with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path="/" + quote(name)))


def with_user(url: str, user: str, password: str = "") -> str:
    parsed = urlparse(url)
    host = parsed.hostname or "127.0.0.1"
    port = f":{parsed.port}" if parsed.port else ""
    credentials = quote(user) + (f":{quote(password)}" if password else "")
    return urlunparse(parsed._replace(netloc=f"{credentials}@{host}{port}"))


def dsn(url: str) -> str:
    """psycopg accepts postgres:// URLs as they are."""
    return url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url


def migrations_hash() -> str:
    """Our migrations, and what decides the third-party ones (pinned packages, installed apps)."""
    digest = hashlib.sha256()
    # core/rls/: migrate creates the policies and the lookup functions it defines.
    decisive = [BASE_DIR / "requirements.txt", BASE_DIR / "config/settings/base.py"]
    for path in [*decisive, *sorted((BASE_DIR / "core" / "rls").glob("*.py"))]:
        digest.update(path.read_bytes())
    for path in sorted(BASE_DIR.glob("*/migrations/*.py")):
        if ".venv" in path.parts:
            continue
        digest.update(str(path.relative_to(BASE_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def _maintenance(url: str) -> psycopg.Connection:
    return psycopg.connect(dsn(with_database(url, "postgres")), autocommit=True)


def _exists(connection, name: str) -> bool:
    return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def _comment(connection, name: str) -> str:
    row = connection.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
    ).fetchone()
    return (row[0] or "") if row else ""


def drop(url: str, name: str | None = None) -> None:
    name = name or database_name(url)
    with _maintenance(url) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def manage(url: str, *args: str) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE, "DATABASE_URL": url}
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True, stdout=subprocess.DEVNULL)


def create(url: str, log=print) -> None:
    """(Re)create the database ``url`` names from the migrated template, migrating the template if stale."""
    name = database_name(url)
    template = f"{name}_template"
    wanted = migrations_hash()
    with _maintenance(url) as connection:
        fresh = _exists(connection, template) and _comment(connection, template) == wanted
    if not fresh:
        log(f"migrating the template database {template} (once per set of migrations)")
        drop(url, template)
        with _maintenance(url) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(template)))
        template_url = with_database(url, template)
        manage(template_url, "migrate", "-v", "0")
        # The application role (no superuser, no BYPASSRLS) that web and workers use.
        manage(template_url, "setup_database_roles")
        with _maintenance(url) as connection:
            connection.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(template), sql.Literal(wanted))
            )
    drop(url)
    with _maintenance(url) as connection:
        connection.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
        )

"""The raw baseline: the same rows as the API's list endpoints, read with psycopg and
encoded with orjson in a minimal WSGI app, served by the same gunicorn settings.

It does only what the answer needs: one connection per worker process, one
transaction per request with the organization's row-level-security setting (the
same database wall the platform passes), a keyset page of the same columns in the
same order, and for assessments the same related rows (level number, observations,
evidence references). No authentication, routing, permissions or serializers: the
floor the platform is measured against. ``/baseline/<name>/<id>`` answers one row (the
detail rows of the bench), and ``PATCH /baseline/enrollments/<id>`` updates one (the
write row).
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs

import orjson
import psycopg
from psycopg.rows import dict_row

ORGANIZATION_ID = int(os.environ.get("BENCH_ORGANIZATION_ID", "0"))
DSN = os.environ.get("BENCH_BASELINE_DSN", "")
MAX_PAGE_SIZE = 100

RUNS = """
SELECT id, program_id AS program, name, starts_on, ends_on, final_deadline, status, checkin_cadence_days,
       skip_non_working_days, created_at, updated_at
FROM programs_run WHERE organization_id = %(org)s AND (%(after)s::bigint IS NULL OR id > %(after)s)
ORDER BY id LIMIT %(limit)s
"""
ENROLLMENTS = """
SELECT id, run_id AS run, participant_id AS participant, team_id AS team, status, success_definition, commitments,
       last_contact_at, archived_at, created_at, updated_at
FROM programs_enrollment
WHERE organization_id = %(org)s AND archived_at IS NULL AND (%(after)s::bigint IS NULL OR id > %(after)s)
ORDER BY id LIMIT %(limit)s
"""
ASSESSMENTS = """
SELECT a.id, a.window_id AS window, a.subject_enrollment_id AS subject_enrollment,
       a.subject_mentor_id AS subject_mentor, a.assessor_role, a.assessor_user_id AS assessor_user,
       a.assessor_mentor_id AS assessor_mentor, a.assessor_enrollment_id AS assessor_enrollment,
       a.level_id AS level, l.number AS level_number, a.notes, a.links, a.version, a.submitted_at
FROM assessments_assessment a JOIN assessments_level l ON l.id = a.level_id
WHERE a.organization_id = %(org)s AND (%(after)s::bigint IS NULL OR a.id > %(after)s)
ORDER BY a.id LIMIT %(limit)s
"""
OBSERVATIONS = """
SELECT assessment_id, indicator_id AS indicator, note FROM assessments_observation
WHERE organization_id = %(org)s AND assessment_id = ANY(%(ids)s) ORDER BY assessment_id, indicator_id
"""
REFERENCES = """
SELECT assessment_id, check_in_id, help_request_id FROM assessments_evidencereference
WHERE organization_id = %(org)s AND assessment_id = ANY(%(ids)s) ORDER BY assessment_id, id
"""
ENDPOINTS = {"runs": RUNS, "enrollments": ENROLLMENTS, "assessments": ASSESSMENTS}
# Detail (``/baseline/<name>/<id>``): the same statement, one row by primary key.
DETAIL = {
    name: query.replace("ORDER BY a.id LIMIT", "AND a.id = %(id)s ORDER BY a.id LIMIT").replace(
        "ORDER BY id LIMIT", "AND id = %(id)s ORDER BY id LIMIT"
    )
    for name, query in ENDPOINTS.items()
}
# Write (``PATCH /baseline/enrollments/<id>`` with {"success_definition": ...}): update and answer the row.
ENROLLMENT_UPDATE = """
UPDATE programs_enrollment SET success_definition = %(success_definition)s, updated_at = now()
WHERE organization_id = %(org)s AND id = %(id)s AND archived_at IS NULL
RETURNING id, run_id AS run, participant_id AS participant, team_id AS team, status, success_definition, commitments,
          last_contact_at, archived_at, created_at, updated_at
"""

_connection: psycopg.Connection | None = None


def _connect() -> psycopg.Connection:
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(DSN, row_factory=dict_row)
    return _connection


def _assessment_extras(cursor, rows: list[dict]) -> None:
    ids = [row["id"] for row in rows]
    observations: dict[int, list] = {}
    cursor.execute(OBSERVATIONS, {"org": ORGANIZATION_ID, "ids": ids})
    for row in cursor.fetchall():
        observations.setdefault(row.pop("assessment_id"), []).append(row)
    references: dict[int, list] = {}
    cursor.execute(REFERENCES, {"org": ORGANIZATION_ID, "ids": ids})
    for row in cursor.fetchall():
        references.setdefault(row["assessment_id"], []).append(row)
    for row in rows:
        refs = references.get(row["id"], [])
        row["observations"] = observations.get(row["id"], [])
        row["check_ins"] = [r["check_in_id"] for r in refs if r["check_in_id"]]
        row["help_requests"] = [r["help_request_id"] for r in refs if r["help_request_id"]]


def _answer(start_response, status: str, payload) -> list[bytes]:
    body = orjson.dumps(payload)
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _one(environ, start_response, name: str, pk: int) -> list[bytes]:
    connection = _connect()
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.organization_id', %s, true)", [str(ORGANIZATION_ID)])
        if environ.get("REQUEST_METHOD") == "PATCH" and name == "enrollments":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            data = orjson.loads(environ["wsgi.input"].read(length) or b"{}")
            cursor.execute(
                ENROLLMENT_UPDATE,
                {"org": ORGANIZATION_ID, "id": pk, "success_definition": str(data.get("success_definition", ""))},
            )
        else:
            cursor.execute(DETAIL[name], {"org": ORGANIZATION_ID, "after": None, "id": pk, "limit": 1})
        rows = cursor.fetchall()
        if name == "assessments" and rows:
            _assessment_extras(cursor, rows)
    connection.commit()
    if not rows:
        return _answer(start_response, "404 Not Found", {"detail": "not found"})
    return _answer(start_response, "200 OK", rows[0])


def application(environ, start_response):
    parts = environ.get("PATH_INFO", "").strip("/").split("/")
    if len(parts) == 3 and parts[1] in ENDPOINTS and parts[2].isdigit():
        return _one(environ, start_response, parts[1], int(parts[2]))
    name = parts[-1]
    query = ENDPOINTS.get(name)
    if query is None:
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b'{"detail":"not found"}']
    params = parse_qs(environ.get("QUERY_STRING", ""))
    page_size = min(int(params.get("page_size", ["50"])[0]), MAX_PAGE_SIZE)
    after = params.get("after", [None])[0]
    connection = _connect()
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.organization_id', %s, true)", [str(ORGANIZATION_ID)])
        cursor.execute(query, {"org": ORGANIZATION_ID, "after": int(after) if after else None, "limit": page_size + 1})
        rows = cursor.fetchall()
        more = len(rows) > page_size
        rows = rows[:page_size]
        if name == "assessments" and rows:
            _assessment_extras(cursor, rows)
    connection.commit()
    next_link = None
    if more:
        host = environ.get("HTTP_HOST", "127.0.0.1")
        next_link = f"http://{host}{environ['PATH_INFO']}?page_size={page_size}&after={rows[-1]['id']}"
    body = orjson.dumps({"next": next_link, "previous": None, "results": rows})
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]

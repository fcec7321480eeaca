"""The OpenAPI schema tells the truth: it validates, documents the contract, and the live API matches it.

The Schemathesis run generates requests for every operation of every app (programs,
mentors, assessments, integrations, core) from the live schema and sends them to the
WSGI application in-process (no network), as a program manager, on the demo data,
with every Schemathesis check that a stateless run can exercise (:data:`CHECKS`):
no 5xx, every response as the schema says (status, content type, body, headers),
schema-violating requests rejected, schema-valid ones accepted, auth enforced,
unsupported methods answered 405 with ``Allow``. Its cases are the coverage phase's
(boundaries, wrong types, missing fields, unsupported methods and content types) and
fuzzed ones, in positive and negative mode.
"""

import collections
import copy
import io

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from openapi_spec_validator import validate
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.meta import CoverageScenario
from schemathesis.generation.modes import GenerationMode
from schemathesis.generation.overrides import Override
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from core.models import User

SCHEMA_URL = "/api/v1/schema/?format=json"
# Fuzzed examples per operation and generation mode: from a total budget, so that the
# run stays within about three minutes on two cores however many endpoints there are.
EXAMPLE_BUDGET = 1200
MIN_EXAMPLES, MAX_EXAMPLES = 2, 6
# Coverage-phase cases: at most this many per operation, scenario, parameter and method
# (the phase alone makes about 8,000 cases, most of them one wrong type after another
# for the same parameter).
COVERAGE_CASES_PER_KIND = 2


@pytest.fixture
def openapi(client, db):
    response = client.get(SCHEMA_URL)
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_valid_openapi_3(openapi):
    assert openapi["openapi"].startswith("3.")
    validate(openapi)


def test_every_operation_documents_errors_and_idempotency(openapi):
    operations = [
        (path, method, operation)
        for path, item in openapi["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert len(operations) > 10
    for path, method, operation in operations:
        responses = operation["responses"]
        for status in ("400", "401", "403", "404", "429"):
            problem = responses[status]["content"]["application/problem+json"]
            assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}, (path, method, status)
            assert problem["examples"], (path, method, status)
        assert "Retry-After" in responses["429"]["headers"]
        if method == "post" and path.startswith("/api/v1/orgs/{org_slug}/"):
            names = [parameter["name"] for parameter in operation.get("parameters", [])]
            assert "Idempotency-Key" in names, path
            assert "422" in responses and "413" in responses
    assert {"apiKey", "tokenAuth", "cookieAuth"} <= set(openapi["components"]["securitySchemes"])


def test_lists_are_cursor_paginated_with_a_capped_page_size(openapi):
    paginated = 0
    for path, item in openapi["paths"].items():
        parameters = {parameter["name"]: parameter for parameter in item.get("get", {}).get("parameters", [])}
        if "cursor" in parameters:
            paginated += 1
            assert parameters["page_size"]["schema"]["maximum"] == 100, path
            assert "page" not in parameters, path
    assert paginated >= 3


def test_core_and_integrations_generate_without_warnings(db):
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        SchemaGenerator().get_schema(request=None, public=True)
    messages = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    ours = [message for message in messages if "/core/" in message or "/integrations/" in message]
    assert ours == []


# --- Schemathesis against the live schema ----------------------------------------------------


def _pin_organization(raw: dict, slug: str) -> dict:
    """Every tenant path with the demo organization's slug instead of a generated one."""
    pinned = copy.deepcopy(raw)
    paths = {}
    for path, item in pinned["paths"].items():
        for operation in item.values():
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"] = [p for p in operation["parameters"] if p.get("name") != "org_slug"]
        if isinstance(item.get("parameters"), list):
            item["parameters"] = [p for p in item["parameters"] if p.get("name") != "org_slug"]
        paths[path.replace("{org_slug}", slug)] = item
    pinned["paths"] = paths
    return pinned


@pytest.fixture
def live_schema(openapi, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False  # generated webhook URLs must never be called
    settings.ALLOWED_HOSTS = ["*"]
    call_command("seed_demo", stdout=io.StringIO())
    schema = schemathesis.openapi.from_dict(_pin_organization(openapi, "hanbit"), config=SCHEMATHESIS_CONFIG)
    schema.app = get_wsgi_application()
    # The WSGI handler closes "old" connections around each request, which inside the
    # test's transaction would close the test's own connection (Django's test client
    # disconnects the same receivers).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schema
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def pm_token(live_schema):
    return Token.objects.get_or_create(user=User.objects.get(email="pm@hanbit.example"))[0].key


# --- The checks --------------------------------------------------------------------------

# Positive data acceptance: besides Schemathesis's defaults (2xx, 3xx, 401, 403, 404,
# 409, 429, 5xx), 422. The only 422 the API answers is `idempotency_key_reused`, which
# every POST documents: generated Idempotency-Key values repeat across cases with
# different bodies, and refusing those is the contract (docs/api.md).
SCHEMATHESIS_CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {"expected-statuses": [*POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES, "422"]},
        }
    }
)


# Rules between fields, or that depend on who asks, which a JSON schema cannot state. A
# 400 that answers a schema-valid request with field errors on these only is accepted;
# each rule is in the field's description or in docs/api.md.
BUSINESS_RULES = {
    # (method, end of the path, attr): why the schema cannot say it
    ("GET", "/assessment-reports/organization/", "after_kind"): "before_kind and after_kind must differ",
    ("GET", "/assessment-reports/organization/csv/", "after_kind"): "before_kind and after_kind must differ",
    ("POST", "/frameworks/", "name_en"): "a name in Korean or in English: one of two optional fields",
    ("PUT", "/frameworks/{id}/", "name_en"): "a name in Korean or in English: one of two optional fields",
    ("POST", "/levels/", "name_en"): "a name in Korean or in English: one of two optional fields",
    ("PUT", "/levels/{id}/", "name_en"): "a name in Korean or in English: one of two optional fields",
    ("POST", "/mentoring-sessions/", "mentor"): "required from program managers and API keys, not from mentors",
    ("PUT", "/mentoring-sessions/{id}/", "mentor"): "read-only once logged (not in the request schema at all)",
    ("PATCH", "/mentoring-sessions/{id}/", "mentor"): "read-only once logged (not in the request schema at all)",
    ("POST", "/mentoring-sessions/", "attendees"): "enrollments the session's mentor mentors",
    ("PUT", "/mentoring-sessions/{id}/", "attendees"): "enrollments the session's mentor mentors",
    ("PATCH", "/mentoring-sessions/{id}/", "attendees"): "enrollments the session's mentor mentors",
    ("POST", "/key-results/", "goal"): "a goal of the requester's own (a mentor's)",
    ("POST", "/goal-check-ins/", "goal"): "a goal of the requester's own (a mentor's)",
    ("GET", "/assessment-reports/{run_id}/", "after"): "before and after must be two different windows",
    ("GET", "/assessment-reports/{run_id}/csv/", "after"): "before and after must be two different windows",
    # The clock: assessments only while their window is open, a closed window's dates frozen.
    ("POST", "/assessments/", "window"): "the window must be open now",
    ("PUT", "/assessments/{id}/", "window"): "the window must be open now",
    ("PATCH", "/assessments/{id}/", "window"): "the window must be open now",
    ("PUT", "/assessment-windows/{id}/", "closes_at"): "a closed window's dates are frozen",
    ("PATCH", "/assessment-windows/{id}/", "closes_at"): "a closed window's dates are frozen",
    # A data-subject request names exactly one person; corrections belong to correction requests.
    ("POST", "/privacy/requests/", "participant"): "a participant or a user: exactly one of two optional fields",
    ("POST", "/privacy/requests/", "corrections"): "only with kind correction, and only fields that can be corrected",
    ("POST", "/privacy/requests/", "received_on"): "a request cannot arrive in the future",
    # One participant per email in the organization: a conditional unique constraint, which
    # Django reports without a code (the other unique rules say `unique` or `unique_together`).
    ("POST", "/participants/", None): "another participant of the organization has this email",
    ("PUT", "/participants/{id}/", None): "another participant of the organization has this email",
    ("PATCH", "/participants/{id}/", None): "another participant of the organization has this email",
}
# Field error codes that no schema can rule out:
EXPLAINED_CODES = {
    # an id that names no row of the organization: the schema says `integer`, not which
    # integers are rows (generated ids are 0, 1, 2**63...)
    "does_not_exist",
    # a value another row already has: it depends on the data, not on the request
    "unique",
    "unique_together",
    # strings may not hold U+0000 (PostgreSQL text cannot; docs/api.md). A pattern on
    # every string of the schema would say it, and stop Schemathesis from trying NUL
    # where it could still make a 500.
    "null_characters_not_allowed",
}


def _only_what_the_schema_cannot_say(case, response) -> bool:
    """A 400 whose every field error is about what no JSON schema can state.

    One of the :data:`EXPLAINED_CODES` (relations in bodies and the report's window
    parameters answer ``does_not_exist`` for unknown ids), django-filter's
    ``invalid_choice`` for an unknown id in a list filter on a relation (an integer
    query parameter), or one of the :data:`BUSINESS_RULES`.
    """
    if response.status_code != 400:
        return False
    try:
        errors = response.json().get("errors")
    except ValueError:
        return False
    integer_filters = {
        parameter.name
        for parameter in case.operation.query
        if parameter.definition.get("schema", {}).get("type") == "integer"
    }

    def explained(error: dict) -> bool:
        code, attr = error.get("code"), error.get("attr")
        return (
            code in EXPLAINED_CODES
            or (code == "invalid_choice" and attr in integer_filters)
            or any(
                case.method == method and case.operation.path.endswith(end) and attr == field
                for method, end, field in BUSINESS_RULES
            )
        )

    return bool(errors) and all(explained(error) for error in errors)


def positive_data_acceptance_but_business_rules(ctx, response, case):
    """Schemathesis's positive data acceptance, except for :func:`_only_what_the_schema_cannot_say`.

    Every other 400 answering a schema-valid request still fails: a field the schema
    calls optional that the server requires, a length or format the schema does not
    state, a rule the schema could express.
    """
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if positive and _only_what_the_schema_cannot_say(case, response):
        return None
    return positive_data_acceptance(ctx, response, case)


# Every check of Schemathesis that a stateless run exercises. Not here:
# * use_after_free and ensure_resource_availability compare a response with the earlier
#   ones of a stateful scenario (a DELETE then a GET, a POST then a GET through links);
#   without that history they pass without looking at anything;
# * object_level_authorization replays reads as other configured identities (peers);
#   tests/isolation covers every endpoint from another organization instead.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    positive_data_acceptance_but_business_rules,
    missing_required_header,
    unsupported_method,
    allow_header_conformance,
    ignored_auth,
]


def _coverage_cases(operation):
    """The coverage phase's cases, positive and negative, at most a few of each kind."""
    seen = collections.Counter()
    generator = CoverageGenerator(
        operation=operation,
        generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        generation_config=operation.schema.config.generation_for(operation=operation, phase="coverage"),
        auth_storage=None,
        override=Override(),
        feedback=FeedbackSources(),
    )
    for case in generator:
        data = case.meta.phase.data
        # A wrong type in a body is one scenario for all its properties: each property counts.
        property_ = data.description if data.scenario == CoverageScenario.INCORRECT_TYPE else None
        kind = (data.scenario, data.parameter_location, data.parameter, case.method, property_)
        seen[kind] += 1
        if seen[kind] <= COVERAGE_CASES_PER_KIND:
            yield case


def _describe(case, group: FailureGroup) -> str:
    scenario = getattr(case.meta.phase.data, "scenario", "fuzzing") if case.meta else "?"
    mode = case.meta.generation.mode.value if case.meta else "?"
    return f"[{scenario}, {mode}] {group}"


def test_the_api_matches_its_schema(live_schema, pm_token):
    headers = {"Authorization": f"Token {pm_token}"}
    failures = collections.defaultdict(list)
    operations = [result.ok() for result in live_schema.get_all_operations()]
    assert len(operations) > 10
    examples = max(MIN_EXAMPLES, min(MAX_EXAMPLES, EXAMPLE_BUDGET // (2 * len(operations))))

    def call_and_validate(case):
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except FailureGroup as group:
            for failure in group.exceptions:
                failures[(case.operation.label, failure.title)].append(_describe(case, group))

    for operation in operations:
        for case in _coverage_cases(operation):
            call_and_validate(case)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def fuzz(case):
                call_and_validate(case)

            try:
                fuzz()
            except Exception as error:  # collect every operation's failure, then report them all
                failures[(operation.label, type(error).__name__)].append(f"({mode.value}) {error}")
    report = [
        f"{label}: {title} ({len(found)}x)\n" + "\n".join(found[:2])
        for (label, title), found in sorted(failures.items())
    ]
    assert not failures, f"{len(failures)} failures\n\n" + "\n\n".join(report)

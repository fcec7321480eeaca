"""The OpenAPI schema tells the truth: it validates, documents the contract, and the live API matches it.

The Schemathesis run generates requests for every operation of every app (programs,
mentors, assessments, integrations, core) from the live schema and sends them to the
WSGI application in-process (no network), as a program manager, on the demo data.
It fails on any 5xx and on any response that does not match the schema (status
code, content type, body, headers).
"""

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
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.models import User

SCHEMA_URL = "/api/v1/schema/?format=json"
# Examples per operation and generation mode: from a total budget, so that the run
# stays within about three minutes on two cores however many endpoints there are.
EXAMPLE_BUDGET = 1200
MIN_EXAMPLES, MAX_EXAMPLES = 2, 6


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
    schema = schemathesis.openapi.from_dict(_pin_organization(openapi, "hanbit"))
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


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def test_the_api_matches_its_schema(live_schema, pm_token):
    failures = []
    operations = [result.ok() for result in live_schema.get_all_operations()]
    assert len(operations) > 10
    examples = max(MIN_EXAMPLES, min(MAX_EXAMPLES, EXAMPLE_BUDGET // (2 * len(operations))))
    for operation in operations:
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
            def call_and_validate(case):
                case.call_and_validate(headers={"Authorization": f"Token {pm_token}"}, checks=CHECKS)

            try:
                call_and_validate()
            except Exception as failure:  # collect every operation's failure, then report them all
                failures.append(f"{operation.label} ({mode.value}): {failure}")
    assert not failures, "\n\n".join(failures)

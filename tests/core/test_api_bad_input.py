"""Bad input answers 4xx in the problem format, never a 500 or a silently different answer (issue #16)."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework import serializers as drf_serializers
from rest_framework.exceptions import ParseError

from core.api.base import TenantViewSetMixin
from core.api.parsers import MAX_JSON_DEPTH, ApiJSONParser
from core.api.serializers import RFC3339DateTimeField
from integrations.models import IdempotencyRecord
from programs.models import CheckIn, HelpRequest, Program
from tests.factories.programs import CheckInFactory, HelpRequestFactory

PROBLEM = "application/problem+json"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@pytest.fixture
def api(organization, full_access_key, key_client):
    _, plaintext = full_access_key
    return key_client(plaintext)


def url(organization, resource):
    return f"/api/v1/orgs/{organization.slug}/{resource}/"


def assert_problem(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    return body


# --- 1. Deeply nested JSON ---------------------------------------------------------

NESTED_BODIES = {
    "arrays": "[" * 1000 + "]" * 1000,
    "objects": '{"name": ' * 1000 + '"x"' + "}" * 1000,
    "below the recursion limit": '{"name": "x", "description": ' + "[" * 200 + "]" * 200 + "}",
}


@pytest.mark.parametrize("body", NESTED_BODIES.values(), ids=NESTED_BODIES.keys())
def test_a_deeply_nested_body_is_a_parse_error(api, organization, body):
    response = api.post(url(organization, "programs"), data=body, content_type="application/json")
    problem = assert_problem(response, 400, "parse_error")
    assert str(MAX_JSON_DEPTH) in problem["detail"]
    assert not Program.objects.for_organization(organization).exists()


@pytest.mark.parametrize("body", NESTED_BODIES.values(), ids=NESTED_BODIES.keys())
def test_a_deeply_nested_body_with_an_idempotency_key_is_a_parse_error_and_not_remembered(api, organization, body):
    response = api.post(
        url(organization, "programs"), data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="nested-1"
    )
    assert_problem(response, 400, "parse_error")
    assert not IdempotencyRecord.objects.for_organization(organization).filter(key="nested-1").exists()
    # The key is free again: the fixed body goes through.
    fixed = api.post(
        url(organization, "programs"),
        data={"name": "Fixed"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="nested-1",
    )
    assert fixed.status_code == 201


def test_a_deeply_nested_patch_is_a_parse_error(api, organization, program):
    response = api.patch(
        f"{url(organization, 'programs')}{program.pk}/", data="[" * 1000 + "]" * 1000, content_type="application/json"
    )
    assert_problem(response, 400, "parse_error")


def test_the_parser_accepts_the_documented_depth_and_refuses_one_more():
    parser = ApiJSONParser()
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert parser.parse(io.BytesIO(at_limit.encode()), "application/json", {}) == eval(at_limit)  # noqa: S307
    deeper = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    with pytest.raises(ParseError):
        parser.parse(io.BytesIO(deeper.encode()), "application/json", {})


# --- 3. page_size out of range -----------------------------------------------------


@pytest.mark.parametrize("page_size", ["0", "-1", "101", "abc", "1.5", "+5", "10000000000000000000000"])
def test_a_page_size_outside_1_to_100_is_a_field_error(api, organization, program, page_size):
    response = api.get(url(organization, "programs"), {"page_size": page_size})
    problem = assert_problem(response, 400, "invalid")
    [error] = problem["errors"]
    assert error["attr"] == "page_size"
    assert error["detail"] == "Send a whole number from 1 to 100."


def test_the_page_size_error_speaks_korean(api, organization):
    response = api.get(url(organization, "runs"), {"page_size": "0"}, HTTP_ACCEPT_LANGUAGE="ko")
    [error] = assert_problem(response, 400, "invalid")["errors"]
    assert error["attr"] == "page_size"
    assert error["detail"] == "1부터 100까지의 정수를 보내세요."


@pytest.mark.parametrize(("page_size", "rows"), [("1", 1), ("100", 3), ("", 3)])
def test_a_page_size_from_1_to_100_is_honoured(api, organization, page_size, rows):
    for name in ("A", "B", "C"):
        Program.objects.create(organization=organization, name=name)
    response = api.get(url(organization, "programs"), {"page_size": page_size})
    assert response.status_code == 200
    assert len(response.json()["results"]) == rows


def test_a_page_size_error_also_applies_on_later_pages(api, organization):
    for name in ("A", "B", "C"):
        Program.objects.create(organization=organization, name=name)
    first = api.get(url(organization, "programs"), {"page_size": "1"}).json()
    response = api.get(first["next"].replace("page_size=1", "page_size=101"))
    assert_problem(response, 400, "invalid")


# --- 4. JSON only ------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_a_form_body_answers_415_and_creates_nothing(api, organization, encoding):
    if encoding == "multipart":
        response = api.post(url(organization, "programs"), data={"name": "Form"}, format="multipart")
    else:
        response = api.post(
            url(organization, "programs"), data="name=Form", content_type="application/x-www-form-urlencoded"
        )
    assert_problem(response, 415, "unsupported_media_type")
    assert not Program.objects.for_organization(organization).exists()


def test_a_form_body_with_an_idempotency_key_answers_415_and_is_not_remembered(api, organization):
    response = api.post(
        url(organization, "programs"),
        data="name=Form",
        content_type="application/x-www-form-urlencoded",
        HTTP_IDEMPOTENCY_KEY="form-1",
    )
    assert_problem(response, 415, "unsupported_media_type")
    assert not IdempotencyRecord.objects.for_organization(organization).filter(key="form-1").exists()


def test_a_form_patch_answers_415_and_changes_nothing(api, organization, program):
    response = api.patch(f"{url(organization, 'programs')}{program.pk}/", data={"name": "Renamed"}, format="multipart")
    assert_problem(response, 415, "unsupported_media_type")
    program.refresh_from_db()
    assert program.name != "Renamed"


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"])
def test_json_with_or_without_a_charset_is_accepted(api, organization, content_type):
    response = api.post(url(organization, "programs"), data='{"name": "JSON"}', content_type=content_type)
    assert response.status_code == 201, response.content
    assert Program.objects.for_organization(organization).get().name == "JSON"


def test_the_schema_offers_json_request_bodies_only(api):
    schema = api.get("/api/v1/schema/?format=json").json()
    media_types = {
        media_type
        for operations in schema["paths"].values()
        for operation in operations.values()
        if isinstance(operation, dict) and "requestBody" in operation
        for media_type in operation["requestBody"]["content"]
    }
    assert media_types == {"application/json"}


# --- 5. Datetimes are RFC 3339 -----------------------------------------------------

BEFORE_STANDARD_TIME = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)


def test_a_datetime_before_1908_is_written_in_utc_not_seouls_local_mean_time(api, organization, enrollment):
    check_in = CheckInFactory(enrollment=enrollment)
    CheckIn.objects.filter(pk=check_in.pk).update(created_at=BEFORE_STANDARD_TIME)
    created_at = api.get(f"{url(organization, 'check-ins')}{check_in.pk}/").json()["created_at"]
    assert created_at == "1900-01-01T00:00:00Z"


def test_list_datetimes_before_1908_are_rfc3339_and_the_same_instant(api, organization, enrollment):
    help_request = HelpRequestFactory(enrollment=enrollment)
    HelpRequest.objects.filter(pk=help_request.pk).update(
        created_at=BEFORE_STANDARD_TIME, first_response_at=BEFORE_STANDARD_TIME + dt.timedelta(hours=1)
    )
    [row] = api.get(url(organization, "help-requests")).json()["results"]
    for name in ("created_at", "first_response_at"):
        assert RFC3339.match(row[name]), row[name]
    assert dt.datetime.fromisoformat(row["created_at"]) == BEFORE_STANDARD_TIME
    assert dt.datetime.fromisoformat(row["first_response_at"]) == BEFORE_STANDARD_TIME + dt.timedelta(hours=1)


def test_todays_datetimes_stay_in_the_seoul_offset(api, organization, enrollment):
    check_in = CheckInFactory(enrollment=enrollment)
    created_at = api.get(f"{url(organization, 'check-ins')}{check_in.pk}/").json()["created_at"]
    assert RFC3339.match(created_at)
    assert created_at.endswith("+09:00")


def _tenant_viewsets(patterns=None):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from _tenant_viewsets(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            view_class = getattr(pattern.callback, "cls", None)
            if view_class is not None and issubclass(view_class, TenantViewSetMixin):
                yield view_class


def _datetime_fields(serializer, path=""):
    for name, field in serializer.fields.items():
        child = getattr(field, "child", None)
        if isinstance(field, drf_serializers.BaseSerializer) or isinstance(child, drf_serializers.BaseSerializer):
            yield from _datetime_fields(child if isinstance(child, drf_serializers.BaseSerializer) else field, name)
        elif isinstance(field, drf_serializers.DateTimeField):
            yield f"{type(serializer).__name__}.{path + '.' if path else ''}{name}", field


def test_every_datetime_the_api_writes_is_an_rfc3339_field(db):
    checked, offenders = 0, []
    for view_class in set(_tenant_viewsets()):
        serializer_class = getattr(view_class, "serializer_class", None)
        if serializer_class is None:
            continue
        for label, field in _datetime_fields(serializer_class(context={})):
            checked += 1
            if not isinstance(field, RFC3339DateTimeField):
                offenders.append(label)
    assert checked > 20
    assert offenders == []

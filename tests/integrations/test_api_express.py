"""The express lane (integrations/express.py), called as gunicorn calls the platform: the WSGI
application of ``config/wsgi.py`` with a WSGI environ, next to Django's own handler.

For every list that takes part, each answer of the lane is compared with the ordinary
path's answer to the same request: status, every header but the request id, and the bytes.
Requests the lane must not answer (another organization's key, a missing scope, filters,
cookies, bad cursors, the rate limit) are the ordinary path's, and answer what it answers.
"""

from __future__ import annotations

import io
import json
import sys
from urllib.parse import urlsplit

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.express import ExpressLane
from tests.factories.programs import EnrollmentFactory, RunFactory

pytestmark = pytest.mark.postgres

LISTS = ("runs", "enrollments", "participants", "programs", "assessments")


class CountingDjango:
    """Django's WSGI handler, counting the requests it answered."""

    def __init__(self):
        self.handler = WSGIHandler()
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.handler(environ, start_response)


def _environ(url: str, token: str | None = None, **extra) -> dict:
    parts = urlsplit(url)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": parts.path,
        "QUERY_STRING": parts.query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
    }
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    environ.update(extra)
    return environ


def _call(application, url, token=None, **extra):
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, headers

    body = b"".join(application(_environ(url, token, **extra), start_response))
    headers = [(name, value) for name, value in answer["headers"] if name != "X-Request-ID"]
    return answer["status"], headers, body


@pytest.fixture
def lane():
    # As Django's test client does: the request signals must not close the test's connection
    # (its transaction holds the test's rows).
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    django = CountingDjango()
    try:
        yield ExpressLane(django), django
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(organization, other_organization, framework):
    from tests.core.test_api_lean import _assessments_world  # the same evidence-rich world

    for org in (organization, other_organization):
        run = RunFactory(program__organization=org)
        for _ in range(2):
            RunFactory(program=run.program)
        EnrollmentFactory.create_batch(25, run=run)
    _assessments_world(organization, other_organization, framework)


def _express_and_ordinary(lane, url, token, **extra):
    """The lane's answer (after it learned the list's headers) and Django's, and whether the lane answered."""
    express, django = lane
    _call(express, url, token, **extra)  # the first answer of a list teaches the lane its headers
    before = django.calls
    answered = _call(express, url, token, **extra)
    by_lane = django.calls == before
    ordinary = _call(django.handler, url, token, **extra)
    return answered, ordinary, by_lane


def test_every_page_of_every_list_is_the_ordinary_answer(world, organization, api_key_for, lane):
    _key, token = api_key_for(organization, scopes=["programs:read", "assessments:read"])
    answered_by_lane = 0
    for name in LISTS:
        for page_size in (1, 7, 100):
            for language in ("", "en", "ko-KR,ko;q=0.9"):
                extra = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
                url = f"http://testserver/api/v1/orgs/{organization.slug}/{name}/?page_size={page_size}"
                for _page in range(3):  # the first page, then the next ones by their links
                    answered, ordinary, by_lane = _express_and_ordinary(lane, url, token, **extra)
                    assert answered == ordinary, (name, page_size, language, url)
                    assert answered[0] == "200 OK", answered
                    answered_by_lane += by_lane
                    url = json.loads(answered[2])["next"]
                    if url is None:
                        break
    # First pages of every list, and next pages of the lists ordered by id (enrollments, assessments).
    assert answered_by_lane >= len(LISTS) * 3 * 3


@pytest.mark.django_db(transaction=True)
def test_a_page_is_four_statements_and_marks_the_key_used(world, organization, api_key_for, lane):
    key, token = api_key_for(organization, scopes=["programs:read"])
    express, django = lane
    url = f"/api/v1/orgs/{organization.slug}/enrollments/?page_size=10"
    _call(express, url, token)  # the ordinary answer teaches the lane the headers
    _call(express, url, token)  # the lane compiles the page statement (nothing runs) and answers
    key.refresh_from_db()
    assert key.last_used_at is not None
    before = django.calls
    with CaptureQueriesContext(connection) as captured:
        status, _headers, _body = _call(express, url, token)
    assert status == "200 OK" and django.calls == before  # the lane answered
    statements = [query["sql"] for query in captured.captured_queries]
    assert len(statements) == 4, statements  # as in production: the request's own transaction
    begin, key_and_context, page, commit = statements
    assert (begin, commit) == ("BEGIN", "COMMIT")
    assert "app_api_key_by_prefix" in key_and_context and "programs_enrollment" in page


def test_a_shape_compiled_for_one_organization_answers_only_the_other_s_rows(
    world, organization, other_organization, api_key_for, lane
):
    from programs.models import Enrollment

    _key, token = api_key_for(organization, scopes=["programs:read"])
    _other_key, other_token = api_key_for(other_organization, scopes=["programs:read"])
    express, django = lane
    url_of = lambda org: f"/api/v1/orgs/{org.slug}/enrollments/?page_size=100"  # noqa: E731
    for _ in range(2):
        _call(express, url_of(organization), token)  # learns headers and compiles with the first key
    before = django.calls
    status, _headers, body = _call(express, url_of(other_organization), other_token)
    status, _headers, body = _call(express, url_of(other_organization), other_token)
    assert status == "200 OK" and django.calls == before  # the same list and language: no learning needed
    ids = {row["id"] for row in json.loads(body)["results"]}
    assert ids == set(Enrollment.objects.for_organization(other_organization).values_list("id", flat=True))
    assert not ids & set(Enrollment.objects.for_organization(organization).values_list("id", flat=True))


def test_what_the_lane_does_not_answer_is_the_ordinary_answer(
    world, organization, other_organization, api_key_for, lane
):
    import base64

    from integrations.services import api_key_revoke

    key, token = api_key_for(organization, scopes=["programs:read"])
    _other, other_token = api_key_for(other_organization, scopes=["programs:read"])
    _no_scope, no_scope_token = api_key_for(organization, scopes=["mentors:read"])
    revoked, revoked_token = api_key_for(organization, scopes=["programs:read"])
    api_key_revoke(organization=organization, api_key=revoked)
    express, django = lane
    base = f"/api/v1/orgs/{organization.slug}/enrollments/"
    _call(express, base, token)  # the lane knows this list
    tampered = base64.b64encode(b"p=abc").decode()
    cases = [
        (base, other_token, {}, "404"),  # a key of another organization
        (base, token[:-3] + "zzz", {}, "401"),  # a forged secret
        (base, revoked_token, {}, "401"),
        (base, no_scope_token, {}, "403"),
        (f"{base}?status=active", token, {}, "200"),  # a filter
        (f"{base}?page_size=0", token, {}, "400"),
        (f"{base}?page_size=5&page_size=6", token, {}, "200"),
        (f"{base}?cursor={tampered}", token, {}, "404"),
        (base, token, {"HTTP_COOKIE": "sessionid=x"}, "200"),
        (base, token, {"HTTP_ACCEPT": "text/html"}, "200"),
        (f"/api/v1/orgs/{organization.slug}/mentors/", token, {}, "403"),  # not a list that takes part
        (f"/api/v1/orgs/{organization.slug}/no-such-list/", token, {}, "404"),
    ]
    for url, used, extra, status in cases:
        before = django.calls
        answered = _call(express, url, used, **extra)
        assert django.calls == before + 1, url  # the ordinary path answered
        assert answered[0].startswith(status), (url, answered[0], answered[2][:200])
        if "HTTP_ACCEPT" not in extra:  # the browsable API's HTML carries a fresh CSRF token each time
            assert answered == _call(django.handler, url, used, **extra), url
    assert "no-such-list" not in express._routes  # names of no route are not remembered


def test_the_rate_limit_is_the_ordinary_path_s_429(world, organization, api_key_for, lane, settings):
    from django.core.cache import cache

    settings.API_RATE_LIMIT_REDIS_URL = ""  # the local cache: a counter of its own for this test
    cache.clear()
    _key, token = api_key_for(organization, scopes=["programs:read"], rate_limit_per_minute=3)
    express, django = lane
    url = f"/api/v1/orgs/{organization.slug}/enrollments/"
    statuses = [_call(express, url, token)[0] for _ in range(4)]
    assert statuses[:3] == ["200 OK"] * 3
    assert statuses[3].startswith("429")


def test_express_answers_are_counted_in_the_request_metrics(world, organization, api_key_for, lane):
    from prometheus_client import REGISTRY

    _key, token = api_key_for(organization, scopes=["programs:read"])
    express, django = lane
    url = f"/api/v1/orgs/{organization.slug}/enrollments/"
    _call(express, url, token)
    from django.urls import resolve

    labels = {"status": "200", "view": resolve(url).view_name, "method": "GET"}
    name = "django_http_responses_total_by_status_view_method_total"
    before = REGISTRY.get_sample_value(name, labels) or 0
    calls = django.calls
    _call(express, url, token)
    assert django.calls == calls
    assert REGISTRY.get_sample_value(name, labels) == before + 1


def test_off_means_the_ordinary_path(world, organization, api_key_for, lane, settings):
    settings.API_EXPRESS_LANE = False
    _key, token = api_key_for(organization, scopes=["programs:read"])
    express, django = lane
    for _ in range(2):
        assert _call(express, f"/api/v1/orgs/{organization.slug}/enrollments/", token)[0] == "200 OK"
    assert django.calls == 2


def test_a_list_the_lane_fails_on_goes_to_django_from_then_on(world, organization, api_key_for, lane, monkeypatch):
    from integrations import express as express_module

    _key, token = api_key_for(organization, scopes=["programs:read"])
    express, django = lane
    url = f"/api/v1/orgs/{organization.slug}/enrollments/"
    _call(express, url, token)

    def broken(self, *args, **kwargs):
        raise RuntimeError("a bug in the lane")

    monkeypatch.setattr(express_module._Route, "fetch", broken)
    before = django.calls
    answered = _call(express, url, token)
    assert answered[0] == "200 OK" and django.calls == before + 1  # the ordinary answer, not a 500
    monkeypatch.undo()
    _call(express, url, token)
    assert django.calls == before + 2  # the list stays with Django in this process

"""The API contract the base classes give every endpoint: errors, pagination, 413, idempotency, rate limits."""

import base64
import threading

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from core.api.problems import handler500
from core.models import Membership
from integrations.models import IdempotencyRecord, WebhookSubscription
from tests.factories.core import MembershipFactory

MEMBERS = "/api/v1/orgs/hanbit/memberships/"
SUBSCRIPTIONS = "/api/v1/orgs/hanbit/webhook-subscriptions/"
PROBLEM = "application/problem+json"


def assert_problem(response, status, code=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["type"] == "about:blank"
    assert body["title"] and body["detail"]
    if code:
        assert body["code"] == code
    return body


# --- One error format ---------------------------------------------------------------


def test_validation_errors_are_problems_with_field_pointers(program_manager, api_client_for, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    response = api_client_for(program_manager).post(SUBSCRIPTIONS, {"events": ["nope"]}, format="json")
    body = assert_problem(response, 400, "invalid")
    by_attr = {error["attr"]: error for error in body["errors"]}
    assert by_attr["url"]["pointer"] == "#/url" and by_attr["url"]["code"] == "required"
    assert by_attr["events.0"]["pointer"] == "#/events/0"
    assert body["instance"] == SUBSCRIPTIONS


def test_authentication_permission_and_method_errors_are_problems(
    organization, viewer, owner, mentor_user, api_client_for
):
    assert_problem(APIClient().get(MEMBERS), 401, "not_authenticated")
    assert_problem(api_client_for(mentor_user).get(MEMBERS), 403, "permission_denied")
    assert_problem(api_client_for(owner).delete(f"{MEMBERS}1/"), 405, "method_not_allowed")
    assert_problem(api_client_for(viewer).get("/api/v1/orgs/nowhere/memberships/"), 404, "not_found")


def test_django_level_errors_under_api_are_problems_too(client, db):
    assert_problem(client.get("/api/v1/no-such-endpoint/"), 404, "not_found")
    request = RequestFactory().get("/api/v1/orgs/hanbit/memberships/")
    response = handler500(request)
    assert response.status_code == 500 and response["Content-Type"] == PROBLEM


def test_pages_outside_the_api_keep_django_error_pages(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and "html" in response["Content-Type"]


def test_a_body_over_one_megabyte_answers_413(program_manager, api_client_for):
    big = b'{"description": "' + b"x" * (1024 * 1024) + b'"}'
    response = api_client_for(program_manager).generic("POST", SUBSCRIPTIONS, big, content_type="application/json")
    assert_problem(response, 413, "payload_too_large")


def test_bad_filter_values_answer_400_not_500(viewer, api_client_for):
    body = assert_problem(api_client_for(viewer).get(MEMBERS, {"role": "boss"}), 400, "invalid")
    assert body["errors"][0]["attr"] == "role"


def test_malformed_and_out_of_range_ids_answer_404(viewer, api_client_for):
    client = api_client_for(viewer)
    assert_problem(client.get(f"{MEMBERS}abc/"), 404)
    assert_problem(client.get(f"{MEMBERS}{2**70}/"), 404)


# --- Cursor pagination ----------------------------------------------------------------


@pytest.fixture
def many_members(organization):
    return MembershipFactory.create_batch(120, organization=organization, role=Membership.Role.VIEWER)


def test_cursor_pages_walk_every_row_once_and_refuse_a_page_size_over_the_cap(owner, many_members, api_client_for):
    client = api_client_for(owner)
    over = client.get(MEMBERS, {"page_size": 500})
    assert over.status_code == 400
    assert [error["attr"] for error in over.json()["errors"]] == ["page_size"]
    first = client.get(MEMBERS, {"page_size": 100}).json()
    assert len(first["results"]) == 100
    assert set(first) == {"next", "previous", "results"}
    seen = [row["id"] for row in first["results"]]
    page = client.get(first["next"]).json()
    seen += [row["id"] for row in page["results"]]
    assert page["next"] is None
    assert len(seen) == len(set(seen)) == 121


def test_ordering_is_honoured_and_unknown_fields_are_ignored(owner, many_members, api_client_for):
    client = api_client_for(owner)
    roles = [row["role"] for row in client.get(MEMBERS, {"ordering": "-role", "page_size": 5}).json()["results"]]
    assert roles[0] == Membership.Role.OWNER
    for ordering in ("email", "user__password", "-nonsense,,", "__"):
        assert client.get(MEMBERS, {"ordering": ordering}).status_code == 200


def test_a_tampered_cursor_answers_404(owner, many_members, api_client_for):
    client = api_client_for(owner)
    assert_problem(client.get(MEMBERS, {"cursor": "not-a-cursor"}), 404)
    tampered = base64.b64encode(b"p=abc").decode()
    assert_problem(client.get(MEMBERS, {"cursor": tampered}), 404)


# --- Idempotency-Key --------------------------------------------------------------------


@pytest.fixture
def subscription_body(webhook_receiver):
    return {"url": webhook_receiver.url, "events": ["enrollment.created"], "description": "CRM"}


def test_a_retried_post_returns_the_first_response_and_creates_nothing_twice(
    organization, program_manager, api_client_for, subscription_body
):
    client = api_client_for(program_manager)
    first = client.post(SUBSCRIPTIONS, subscription_body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    again = client.post(SUBSCRIPTIONS, subscription_body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert WebhookSubscription.objects.for_organization(organization).count() == 1


def test_the_same_key_with_another_body_answers_422(program_manager, api_client_for, subscription_body):
    client = api_client_for(program_manager)
    client.post(SUBSCRIPTIONS, subscription_body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    changed = {**subscription_body, "description": "BI"}
    assert_problem(
        client.post(SUBSCRIPTIONS, changed, format="json", HTTP_IDEMPOTENCY_KEY="k"), 422, "idempotency_key_reused"
    )


def test_a_failed_request_can_be_retried_with_the_same_key(
    organization, program_manager, api_client_for, subscription_body
):
    client = api_client_for(program_manager)
    bad = client.post(SUBSCRIPTIONS, {"events": []}, format="json", HTTP_IDEMPOTENCY_KEY="fix-and-retry")
    assert bad.status_code == 400
    good = client.post(SUBSCRIPTIONS, subscription_body, format="json", HTTP_IDEMPOTENCY_KEY="fix-and-retry")
    assert good.status_code == 201


def test_keys_are_per_client(organization, program_manager, owner, api_client_for, subscription_body):
    api_client_for(program_manager).post(SUBSCRIPTIONS, subscription_body, format="json", HTTP_IDEMPOTENCY_KEY="same")
    response = api_client_for(owner).post(SUBSCRIPTIONS, subscription_body, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert WebhookSubscription.objects.for_organization(organization).count() == 2


def test_an_overlong_key_is_a_field_error(program_manager, api_client_for, subscription_body):
    response = api_client_for(program_manager).post(
        SUBSCRIPTIONS, subscription_body, format="json", HTTP_IDEMPOTENCY_KEY="x" * 300
    )
    assert assert_problem(response, 400)["errors"][0]["attr"] == "Idempotency-Key"


def test_concurrent_retries_create_one_row(postgres, transactional_db, organization, program_manager, webhook_receiver):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=program_manager)
    body = {"url": webhook_receiver.url, "events": ["enrollment.created"]}
    barrier = threading.Barrier(4)
    responses = []

    def post():
        from django.db import connection

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        barrier.wait()
        try:
            responses.append(client.post(SUBSCRIPTIONS, body, format="json", HTTP_IDEMPOTENCY_KEY="race"))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(response.status_code for response in responses) == [201] * 4
    assert len({response.json()["id"] for response in responses}) == 1
    assert WebhookSubscription.objects.for_organization(organization).count() == 1
    assert IdempotencyRecord.objects.for_organization(organization).count() == 1


# --- Rate limits per key ------------------------------------------------------------------


def _limited_client(organization, api_key_for, key_client, limit):
    _key, plaintext = api_key_for(organization, scopes=["organization:read"], rate_limit_per_minute=limit)
    return key_client(plaintext)


def test_over_the_limit_answers_429_with_retry_after_in_the_cache_fallback(
    organization, api_key_for, key_client, settings
):
    settings.API_RATE_LIMIT_REDIS_URL = ""
    client = _limited_client(organization, api_key_for, key_client, limit=2)
    assert [client.get(MEMBERS).status_code for _ in range(2)] == [200, 200]
    response = client.get(MEMBERS)
    assert_problem(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 60


@pytest.mark.redis
def test_over_the_limit_answers_429_with_redis_counters(organization, api_key_for, key_client, settings, redis_url):
    import redis

    settings.API_RATE_LIMIT_REDIS_URL = redis_url
    key, plaintext = api_key_for(organization, scopes=["organization:read"], rate_limit_per_minute=3)
    client = key_client(plaintext)
    assert [client.get(MEMBERS).status_code for _ in range(4)] == [200, 200, 200, 429]
    counter = f"ratelimit:key:{key.prefix}"
    connection = redis.Redis.from_url(redis_url)
    assert int(connection.get(counter)) == 4
    assert 0 < connection.ttl(counter) <= 60
    connection.delete(counter)


def test_people_are_not_limited_by_the_key_limits(program_manager, api_client_for, settings):
    settings.API_KEY_RATE_LIMIT_PER_MINUTE = 1
    client = api_client_for(program_manager)
    assert [client.get(MEMBERS).status_code for _ in range(3)] == [200, 200, 200]

"""API keys: hashed storage, the organization of the key, scopes, revocation and expiry."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from integrations import services
from integrations.models import ApiKey

MEMBERS = "/api/v1/orgs/{slug}/memberships/"
SUBSCRIPTIONS = "/api/v1/orgs/{slug}/webhook-subscriptions/"


def test_the_key_is_stored_as_a_prefix_and_a_hash(organization, api_key_for):
    key, plaintext = api_key_for(organization)
    assert plaintext.startswith(f"ck_{key.prefix}_")
    secret = plaintext.split("_", 2)[2]
    stored = ApiKey.objects.for_organization(organization).get(pk=key.pk)
    assert secret not in stored.secret_hash and len(stored.secret_hash) == 64
    assert stored.service_user.has_usable_password() is False


def test_a_key_reads_its_own_organization(organization, program_manager, api_key_for, key_client):
    _key, plaintext = api_key_for(organization, scopes=["organization:read"])
    response = key_client(plaintext).get(MEMBERS.format(slug=organization.slug))
    assert response.status_code == 200
    assert [row["email"] for row in response.json()["results"]] == [program_manager.email]


def test_a_key_on_another_organizations_path_answers_404(
    organization, other_organization, other_program_manager, api_key_for, key_client
):
    _key, plaintext = api_key_for(organization, scopes=["organization:read"])
    response = key_client(plaintext).get(MEMBERS.format(slug=other_organization.slug))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_my_organizations_lists_only_the_keys_organization(organization, other_organization, api_key_for, key_client):
    _key, plaintext = api_key_for(organization, scopes=["organization:read"])
    response = key_client(plaintext).get("/api/v1/orgs/")
    assert [row["slug"] for row in response.json()["results"]] == [organization.slug]


@pytest.mark.parametrize(
    ("change", "code"),
    [("revoke", "api_key_revoked"), ("expire", "api_key_expired"), ("garble", "authentication_failed")],
)
def test_revoked_expired_or_unknown_keys_answer_401(organization, api_key_for, key_client, change, code):
    key, plaintext = api_key_for(organization, scopes=["organization:read"])
    if change == "revoke":
        services.api_key_revoke(organization=organization, api_key=key)
    elif change == "expire":
        ApiKey.objects.for_organization(organization).filter(pk=key.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    else:
        plaintext = plaintext[:-4] + "AAAA"
    response = key_client(plaintext).get(MEMBERS.format(slug=organization.slug))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["code"] == code


def test_scopes_limit_the_resource_group_and_the_method(organization, api_key_for, key_client, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    _key, read_only = api_key_for(organization, scopes=["webhooks:read"])
    client = key_client(read_only)
    url = SUBSCRIPTIONS.format(slug=organization.slug)
    assert client.get(url).status_code == 200
    body = {"url": "http://127.0.0.1:9/hooks", "events": ["enrollment.created"]}
    refused = client.post(url, body, format="json")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "This API key lacks the scope webhooks:write."
    # Another group is out of reach altogether.
    assert client.get(MEMBERS.format(slug=organization.slug)).status_code == 403

    _key, writer = api_key_for(organization, scopes=["webhooks:write"])
    created = key_client(writer).post(url, body, format="json")
    assert created.status_code == 201, created.json()
    assert key_client(writer).get(url).status_code == 200  # write includes read


def test_a_key_never_does_what_needs_an_owner(organization, api_key_for, key_client):
    from core.api.permissions import OrganizationRolePermission
    from core.models import Membership

    key, _plaintext = api_key_for(organization, scopes=["organization:write"])

    class Request:
        method = "POST"
        auth = key
        user = key.service_user

    class OwnerOnlyView:
        role_map = {"POST": Membership.Role.OWNER}
        __module__ = "core.api.views"

    assert OrganizationRolePermission().has_permission(Request(), OwnerOnlyView()) is False


def test_use_is_recorded_at_most_once_a_minute(organization, api_key_for, key_client):
    key, plaintext = api_key_for(organization, scopes=["organization:read"])
    client = key_client(plaintext)
    client.get(MEMBERS.format(slug=organization.slug))
    key.refresh_from_db()
    first_use = key.last_used_at
    assert first_use is not None
    client.get(MEMBERS.format(slug=organization.slug))
    key.refresh_from_db()
    assert key.last_used_at == first_use


def test_unknown_scopes_are_refused(organization):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.api_key_create(organization=organization, name="x", scopes=["programs:admin"])


def test_the_command_prints_the_key_once(organization, key_client):
    out, err = StringIO(), StringIO()
    call_command(
        "create_api_key",
        "--org",
        organization.slug,
        "--scopes",
        "organization:read,webhooks:write",
        stdout=out,
        stderr=err,
    )
    plaintext = out.getvalue().strip()
    assert plaintext.startswith("ck_")
    assert plaintext not in err.getvalue()
    key = ApiKey.objects.for_organization(organization).get()
    assert key.scopes == ["organization:read", "webhooks:write"]
    assert key_client(plaintext).get(MEMBERS.format(slug=organization.slug)).status_code == 200


def test_the_command_refuses_unknown_organizations_and_scopes(organization):
    with pytest.raises(CommandError):
        call_command("create_api_key", "--org", "nope", "--scopes", "programs:read", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("create_api_key", "--org", organization.slug, "--scopes", "everything", stdout=StringIO())

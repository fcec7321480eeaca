"""API key authentication: ``Authorization: Bearer ck_<prefix>_<secret>``."""

from __future__ import annotations

import hmac

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from core import rls
from core.models import Organization
from integrations import selectors, services
from integrations.models import ApiKey


def _columns(model, alias: str) -> tuple[list[str], str]:
    fields = [field.attname for field in model._meta.concrete_fields]
    columns = ", ".join(f"{alias}.{field.column}" for field in model._meta.concrete_fields)
    return fields, columns


def _instance(model, names: list[str], values):
    """A model instance from raw column values, with the fields' own conversions (JSON and the like)."""
    connection = connections[DEFAULT_DB_ALIAS]
    converted = [
        field.from_db_value(value, None, connection) if value is not None and hasattr(field, "from_db_value") else value
        for field, value in zip(model._meta.concrete_fields, values, strict=True)
    ]
    return model.from_db(DEFAULT_DB_ALIAS, names, converted)


def api_key_for_token_activating(*, token: str, slug: str) -> ApiKey | None:
    """:func:`integrations.selectors.api_key_for_token` in the statement that activates ``slug``.

    One statement: the organization of the URL becomes the row-level-security context
    (as :func:`core.rls.activate_organization_slug`), and the key, its organization and
    its service user are read across organizations (``app_api_key_by_prefix``; the
    token names the organization, the caller checks that it is the URL's). Falls back
    to the selector where the database wall does not apply.
    """
    parts = selectors.api_key_split(token)
    if parts is None:
        return None
    prefix, secret = parts
    user_model = get_user_model()
    key_fields, key_columns = _columns(ApiKey, "k")
    organization_fields, organization_columns = _columns(Organization, "o")
    user_fields, user_columns = _columns(user_model, "u")
    row = rls.activate_organization_slug_and_fetch(
        slug,
        columns=f"{key_columns}, {organization_columns}, {user_columns}",
        joins=(
            "LEFT JOIN LATERAL app_api_key_by_prefix(%s) AS k ON true "
            f"LEFT JOIN {Organization._meta.db_table} AS o ON o.id = k.organization_id "
            f"LEFT JOIN {user_model._meta.db_table} AS u ON u.id = k.service_user_id"
        ),
        params=[prefix],
    )
    if row is None:
        rls.activate_organization_slug(slug)
        return selectors.api_key_for_token(token=token)
    key_values = row[: len(key_fields)]
    organization_values = row[len(key_fields) : len(key_fields) + len(organization_fields)]
    user_values = row[len(key_fields) + len(organization_fields) :]
    if key_values[0] is None:
        return None
    key = _instance(ApiKey, key_fields, key_values)
    if not hmac.compare_digest(key.secret_hash, selectors.secret_hash(secret)):
        return None
    key._state.fields_cache["organization"] = _instance(Organization, organization_fields, organization_values)
    key._state.fields_cache["service_user"] = _instance(user_model, user_fields, user_values)
    return key


def key_refusal(key: ApiKey | None) -> tuple | None:
    """Why ``key`` may not authenticate (the message and code of the 401), or None when it may."""
    if key is None:
        return (_("Invalid API key."),)
    if key.revoked_at is not None:
        return (_("This API key was revoked."), "api_key_revoked")
    if key.is_expired:
        return (_("This API key has expired."), "api_key_expired")
    if not key.service_user.is_active:
        return (_("Invalid API key."),)
    return None


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticates requests that carry an organization's API key.

    ``request.user`` is the key's service user and ``request.auth`` the
    :class:`~integrations.models.ApiKey`; the tenant base viewset then checks that the
    key belongs to the organization of the URL (else 404) and that its scopes allow
    the request (else 403). A revoked, expired or unknown key answers 401. Bearer
    tokens that are not API keys are left to other authenticators.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        try:
            return self._authenticate(request)
        finally:
            # Not a key after all (or refused before the lookup): activate the URL's organization now.
            rls.activate_deferred_slug(request._request)

    def _authenticate(self, request):
        parts = get_authorization_header(request).split()
        if len(parts) < 2 or parts[0].lower() != self.keyword.lower().encode():
            return None
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        if selectors.api_key_split(token) is None:
            return None
        if len(parts) > 2:
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        slug = rls.take_deferred_slug(request._request)
        if slug is not None:
            key = api_key_for_token_activating(token=token, slug=slug)
        else:
            key = selectors.api_key_for_token(token=token)
        refusal = key_refusal(key)
        if refusal is not None:
            raise exceptions.AuthenticationFailed(*refusal)
        services.api_key_touch(api_key=key)
        return key.service_user, key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "integrations.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "ck_<prefix>_<secret>",
            "description": "An organization's API key (create one in the admin under Integrations → API keys, "
            "or with `manage.py create_api_key`). Scopes grant read or write access per resource group.",
        }

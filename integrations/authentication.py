"""API key authentication: ``Authorization: Bearer ck_<prefix>_<secret>``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from integrations import selectors, services


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
        key = selectors.api_key_for_token(token=token)
        if key is None:
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        if key.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This API key was revoked."), code="api_key_revoked")
        if key.is_expired:
            raise exceptions.AuthenticationFailed(_("This API key has expired."), code="api_key_expired")
        if not key.service_user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
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

"""OpenAPI schema that tells the truth about the whole API contract.

drf-spectacular documents what each view declares; this module adds what the base
classes do for every view: the problem+json error responses (with examples), the
``Idempotency-Key`` header on POST, ``?archived=`` on archivable lists, and JSON as
the only request format (tenant endpoints parse nothing else: see
``core.api.parsers``).
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.settings import api_settings

from core.api.problems import PROBLEM_CONTENT_TYPE, problem_title

TENANT_PATH_PREFIX = "/api/v1/orgs/"
# A character Python's str.strip() keeps: ECMA's \s lacks \x1c-\x1f and \x85, which
# DRF trims (and so "\x1c" alone is blank).
NOT_BLANK_PATTERN = r"[^\s\x1c-\x1f\x85]"
SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"  # DRF's SlugField
SLUG_UNICODE_PATTERN = r"^[-\w]+$"
PROBLEM_COMPONENT = "Problem"
FIELD_ERROR_COMPONENT = "ProblemFieldError"


# What Django's URLValidator accepts, as far as a pattern can say it (http(s) or ftp(s),
# a dotted host name with a top-level domain, an optional port and path): a `format: uri`
# alone also admits `mailto:x` or `programs:participant`, which answer 400.
URL_PATTERN = (
    r"^(?:{schemes})://{userinfo}"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?\.)+[A-Za-z]{{2,63}}\.?"
    # then RFC 3986 characters only, a % only as %XX
    r"(?::[0-9]{{1,4}})?(?:[/?#](?:[-A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{{2}})*)?$"
)


def _decimal_pattern(max_digits: int | None, decimal_places: int | None) -> str:
    """A decimal string DRF's DecimalField reads: at least one digit, the places it allows."""
    whole = "+" if max_digits is None else f"{{1,{max(max_digits - (decimal_places or 0), 1)}}}"
    if decimal_places == 0:
        return rf"^-?\d{whole}$"
    places = "*" if decimal_places is None else f"{{0,{decimal_places}}}"
    some_places = "+" if decimal_places is None else f"{{1,{decimal_places}}}"
    return rf"^-?(?:\d{whole}(?:\.\d{places})?|\.\d{some_places})$"


class TenantAutoSchema(AutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and isinstance(field, serializers.DecimalField) and schema.get("type") == "string":
            # drf-spectacular's pattern lets "", "-" and "." through (every digit is optional).
            schema["pattern"] = _decimal_pattern(field.max_digits, field.decimal_places)
        if direction == "request" and isinstance(field, serializers.URLField) and "pattern" not in schema:
            # A field may narrow it: `url_schemes` (regex alternatives), `url_credentials`.
            schemes = getattr(field, "url_schemes", ("https?", "ftps?"))
            userinfo = r"(?:[^\s:@/]+(?::[^\s:@/]*)?@)?" if getattr(field, "url_credentials", True) else ""
            schema["pattern"] = URL_PATTERN.format(schemes="|".join(schemes), userinfo=userinfo)
        if direction == "request" and isinstance(field, serializers.SlugField) and "pattern" not in schema:
            schema["pattern"] = SLUG_UNICODE_PATTERN if field.allow_unicode else SLUG_PATTERN
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and not field.allow_blank
            and field.trim_whitespace
            and schema.get("type") == "string"
            and "pattern" not in schema
        ):
            # DRF trims the value first: " " or "\n" is blank, and a field that may not be blank answers 400.
            schema["pattern"] = NOT_BLANK_PATTERN
        return schema

    def map_parsers(self):
        view_parsers = list(getattr(self.view, "parser_classes", ()))
        if view_parsers == list(api_settings.DEFAULT_PARSER_CLASSES):
            return ["application/json"]
        return super().map_parsers()

    def get_override_parameters(self):
        from core.api import extensions
        from core.api.base import TenantViewSetMixin
        from core.models import ArchivableTenantModel

        parameters = list(super().get_override_parameters())
        if not isinstance(self.view, TenantViewSetMixin):
            return parameters
        hooks = extensions.idempotency()
        if self.method == "POST" and hooks is not None:
            parameters.append(
                OpenApiParameter(
                    name="Idempotency-Key",
                    # What integrations.idempotency accepts: 1 to 255 characters, not only blanks.
                    type={
                        "type": "string",
                        "minLength": 1,
                        "maxLength": hooks.max_key_length,
                        "pattern": NOT_BLANK_PATTERN,
                    },
                    location=OpenApiParameter.HEADER,
                    required=False,
                    description=(
                        "Any unique string up to 255 characters (a UUID). A retry with the same key and body "
                        "within 24 hours returns the first response (header `Idempotent-Replayed: true`) and "
                        "creates nothing again; the same key with a different body answers 422."
                    ),
                )
            )
        model = getattr(self.view, "model", None) or getattr(getattr(self.view, "queryset", None), "model", None)
        if (
            self.method == "GET"
            and model is not None
            and issubclass(model, ArchivableTenantModel)
            and getattr(self.view, "action", None) in ("list", "retrieve")
        ):
            parameters.append(
                OpenApiParameter(
                    name="archived",
                    type=OpenApiTypes.BOOL,
                    location=OpenApiParameter.QUERY,
                    required=False,
                    description=(
                        "Include archived rows too."
                        if self._is_list_view()
                        else "Show the row even if it is archived (otherwise an archived row answers 404)."
                    ),
                )
            )
        return parameters


_EXAMPLE_DETAILS = {
    400: ("invalid", "Some fields are invalid."),
    401: ("not_authenticated", "Authentication credentials were not provided."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    409: ("conflict", "The request conflicts with the current state of the resource."),
    413: ("payload_too_large", "The request body is 2000000 bytes; the limit is 1048576 bytes."),
    415: ("unsupported_media_type", 'Unsupported media type "text/plain" in request.'),
    422: ("idempotency_key_reused", "This Idempotency-Key was already used for a different request."),
    429: ("throttled", "Request was throttled. Expected available in 42 seconds."),
}
_DESCRIPTIONS = {
    400: "Invalid input: `errors` lists each field error with a JSON Pointer into the request body.",
    401: "No credentials, or an unknown, revoked or expired API key.",
    403: "Authenticated, but the role or the API key's scopes do not allow this.",
    404: "No such object, or it belongs to an organization you cannot see (never 403).",
    409: "Conflict with the current state (e.g. other rows still refer to this one).",
    413: "The request body is over 1 MB.",
    415: "Send `Content-Type: application/json`.",
    422: "The Idempotency-Key was already used for a different request.",
    429: "Rate limit of the API key reached; retry after `Retry-After` seconds.",
}


def _problem_schemas() -> dict:
    return {
        FIELD_ERROR_COMPONENT: {
            "type": "object",
            "description": "One field error of a 400 problem.",
            "properties": {
                "attr": {
                    "type": "string",
                    "nullable": True,
                    "description": "Dotted field path (`items.0.title`); null for errors about the whole body.",
                },
                "pointer": {"type": "string", "description": "JSON Pointer (RFC 6901) into the request body."},
                "detail": {"type": "string"},
                "code": {"type": "string", "description": "Machine-readable error code, e.g. `required`."},
            },
            "required": ["attr", "pointer", "detail", "code"],
        },
        PROBLEM_COMPONENT: {
            "type": "object",
            "description": "RFC 9457 problem details. `code` and `errors` are extension members.",
            "properties": {
                "type": {"type": "string", "description": "Problem type URI; `about:blank` (see `code`)."},
                "title": {"type": "string", "description": "Short summary of the status."},
                "status": {"type": "integer", "description": "The HTTP status code."},
                "detail": {"type": "string", "description": "What went wrong, for a person."},
                "instance": {"type": "string", "description": "The request path."},
                "code": {"type": "string", "description": "Machine-readable problem code, e.g. `not_found`."},
                "errors": {"type": "array", "items": {"$ref": f"#/components/schemas/{FIELD_ERROR_COMPONENT}"}},
            },
            "required": ["type", "title", "status", "detail", "code"],
        },
    }


def _example(status_code: int, path: str) -> dict:
    code, detail = _EXAMPLE_DETAILS[status_code]
    value = {
        "type": "about:blank",
        "title": problem_title(status_code),
        "status": status_code,
        "detail": detail,
        "instance": path.replace("{org_slug}", "hanbit"),
        "code": code,
    }
    if status_code == 400:
        value["errors"] = [
            {"attr": "name", "pointer": "#/name", "detail": "This field is required.", "code": "required"}
        ]
    return value


def _problem_response(status_code: int, path: str) -> dict:
    response = {
        "description": _DESCRIPTIONS[status_code],
        "content": {
            PROBLEM_CONTENT_TYPE: {
                "schema": {"$ref": f"#/components/schemas/{PROBLEM_COMPONENT}"},
                "examples": {_EXAMPLE_DETAILS[status_code][0]: {"value": _example(status_code, path)}},
            }
        },
    }
    if status_code == 429:
        response["headers"] = {
            "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds until the next request may pass."}
        }
    if status_code == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Bearer`."}}
    return response


def add_problem_responses(result, generator, request, public):
    """Postprocessing hook: every operation documents the errors the base classes can answer.

    It also marks every optional query parameter ``allowEmptyValue``: an empty value
    (``?status=``) is the same as leaving the parameter out, for filters (django-filter
    skips empty values), ``cursor``, ``page_size``, ``ordering``, ``archived`` and the
    report parameters alike (docs/api.md).
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(_problem_schemas())
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            if path.startswith(TENANT_PATH_PREFIX):
                for parameter in operation.get("parameters", []):
                    if parameter.get("in") == "query" and not parameter.get("required"):
                        parameter["allowEmptyValue"] = True
            codes = [400, 401, 403, 404, 429]
            if method in ("post", "put", "patch"):
                codes += [409, 413, 415]
            if method == "post":
                codes.append(422)
            if method == "delete":
                codes.append(409)
            responses = operation.setdefault("responses", {})
            for status_code in sorted(set(codes)):
                responses.setdefault(str(status_code), _problem_response(status_code, path))
            for status, response in responses.items():
                # A view that declared an error with a description only still answers problem+json.
                if status[:1] in ("4", "5") and isinstance(response, dict) and "content" not in response:
                    documented = _problem_response(int(status) if int(status) in _EXAMPLE_DETAILS else 400, path)
                    response["content"] = documented["content"]
    return result

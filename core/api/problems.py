"""One error format for the whole API: RFC 9457 problem details.

Every error under ``/api/`` answers ``application/problem+json``::

    {"type": "about:blank", "title": "Invalid input.", "status": 400,
     "detail": "Some fields are invalid.", "instance": "/api/v1/orgs/hanbit/runs/",
     "code": "invalid",
     "errors": [{"attr": "name", "pointer": "#/name", "detail": "This field is required.",
                 "code": "required"}]}

``code`` (a stable, machine-readable word) and ``errors`` (one entry per field
error) are extension members. ``type`` is ``about:blank`` because ``code`` already
tells problems apart; ``title`` is the short, translated summary of the status.

DRF errors go through :func:`problem_exception_handler` (``EXCEPTION_HANDLER``);
Django's own 400/404/500 pages under ``/api/`` go through the ``handler*`` views
below, and oversized bodies through :mod:`core.api.middleware`.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from core.api.serializers import django_to_drf_errors

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
API_PATH_PREFIX = "/api/"

TITLES = {
    400: _("Invalid input."),
    401: _("Authentication required."),
    403: _("Permission denied."),
    404: _("Not found."),
    405: _("Method not allowed."),
    406: _("Not acceptable."),
    409: _("Conflict."),
    413: _("Request body too large."),
    415: _("Unsupported media type."),
    422: _("Unprocessable request."),
    429: _("Too many requests."),
    500: _("Server error."),
}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state of the resource.")
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "payload_too_large"


class UnprocessableRequest(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _("The request cannot be processed.")
    default_code = "unprocessable"


def problem_title(status_code: int) -> str:
    if status_code in TITLES:
        return str(TITLES[status_code])
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return ""


def problem(
    *, status_code: int, detail: str, code: str, instance: str = "", errors: list[dict] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": problem_title(status_code),
        "status": status_code,
        "detail": str(detail),
        "code": code,
    }
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    return body


def problem_response(*, status_code: int, detail: str, code: str, request=None, headers=None) -> JsonResponse:
    """A problem+json response for code outside DRF (middleware, Django handlers)."""
    body = problem(
        status_code=status_code, detail=detail, code=code, instance=getattr(request, "path", "") if request else ""
    )
    response = JsonResponse(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _escape_pointer(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def flatten_field_errors(details: Any, path: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """``{"a": [{"message", "code"}], "b": {"c": [...]}}`` → one entry per message.

    ``attr`` is the dotted path (``items.0.title``), ``pointer`` the JSON Pointer
    (RFC 6901) into the request body; errors about the whole body
    (``non_field_errors``) have ``attr`` null and ``pointer`` ``#/``.
    """
    if isinstance(details, dict) and "message" in details and "code" in details and len(details) == 2:
        attr = ".".join(path) if path else None
        return [
            {
                "attr": attr,
                "pointer": "#/" + "/".join(_escape_pointer(p) for p in path),
                "detail": str(details["message"]),
                "code": str(details["code"]),
            }
        ]
    entries: list[dict[str, Any]] = []
    if isinstance(details, dict):
        for key, value in details.items():
            key = str(key)
            child = path if key in ("non_field_errors", "__all__") else (*path, key)
            entries.extend(flatten_field_errors(value, child))
    elif isinstance(details, list):
        nested = any(isinstance(item, (dict, list)) and not _is_leaf(item) for item in details)
        for index, value in enumerate(details):
            entries.extend(flatten_field_errors(value, (*path, str(index)) if nested else path))
    return entries


def _is_leaf(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"message", "code"}


def _to_api_exception(exc: Exception) -> Exception:
    if isinstance(exc, DjangoValidationError):
        return django_to_drf_errors(exc)
    if isinstance(exc, (ProtectedError, RestrictedError)):
        return Conflict(_("Other records still refer to this one."), code="protected")
    if isinstance(exc, IntegrityError):
        # A constraint the serializer did not check first. A conflict, not a crash;
        # logged because the endpoint should turn it into a field error.
        logger.warning("IntegrityError answered as 409: %s", str(exc).splitlines()[0] if str(exc) else exc)
        return Conflict(code="integrity_error")
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    return exc


def problem_exception_handler(exc: Exception, context: dict) -> Any:
    """DRF ``EXCEPTION_HANDLER``: every APIException (and common Django errors) as problem+json."""
    exc = _to_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    request = context.get("request")
    code = "error"
    errors = None
    if isinstance(exc, exceptions.APIException):
        code = exc.default_code
        if isinstance(exc.detail, (dict, list)):
            errors = flatten_field_errors(exc.get_full_details())
            detail = (
                _("Some fields are invalid.") if response.status_code == 400 else problem_title(response.status_code)
            )
        else:
            detail = str(exc.detail)
            detail_code = getattr(exc.detail, "code", None)
            if detail_code and detail_code != exc.default_code:
                code = detail_code
        if isinstance(exc, exceptions.ValidationError):
            code = "invalid"
    else:
        detail = problem_title(response.status_code)
    if response.status_code == 400 and errors is None and isinstance(exc, exceptions.ValidationError):
        errors = []
    response.data = problem(
        status_code=response.status_code,
        detail=str(detail),
        code=code,
        instance=getattr(request, "path", "") if request is not None else "",
        errors=errors,
    )
    renderer = getattr(request, "accepted_renderer", None) if request is not None else None
    if renderer is None or getattr(renderer, "format", "json") == "json":
        response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _is_api(request) -> bool:
    return request.path.startswith(API_PATH_PREFIX)


def handler400(request, exception=None):
    if _is_api(request):
        return problem_response(status_code=400, detail=str(TITLES[400]), code="bad_request", request=request)
    return defaults.bad_request(request, exception)


def handler403(request, exception=None):
    if _is_api(request):
        return problem_response(status_code=403, detail=str(TITLES[403]), code="permission_denied", request=request)
    return defaults.permission_denied(request, exception)


def handler404(request, exception=None):
    if _is_api(request):
        return problem_response(status_code=404, detail=str(TITLES[404]), code="not_found", request=request)
    return defaults.page_not_found(request, exception)


def handler500(request):
    if _is_api(request):
        return problem_response(
            status_code=500, detail=str(_("Something went wrong on our side.")), code="server_error", request=request
        )
    return defaults.server_error(request)

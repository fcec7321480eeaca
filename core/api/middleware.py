"""Request-size limit of the API, answered in the API's error format."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from core.api.problems import API_PATH_PREFIX, problem_response


class ApiRequestSizeLimitMiddleware:
    """Answers 413 problem+json to an API request whose body is over ``API_MAX_BODY_BYTES``.

    DRF's parsers read the body stream directly, so Django's own
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` check never runs for JSON; and Django answers
    its violations with a 400. Checking ``Content-Length`` up front refuses the
    request before anything reads it (a body without one is read as empty by WSGI).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(API_PATH_PREFIX):
            limit = getattr(settings, "API_MAX_BODY_BYTES", settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if limit is not None and length > limit:
                return problem_response(
                    status_code=413,
                    detail=_("The request body is %(size)d bytes; the limit is %(limit)d bytes.")
                    % {"size": length, "limit": limit},
                    code="payload_too_large",
                    request=request,
                )
        return self.get_response(request)

"""The API reads JSON bodies only, and only JSON a server can afford to hold.

:class:`ApiJSONParser` is the one parser of every tenant endpoint (set on
:class:`core.api.base.TenantViewSetMixin`): a form-encoded or multipart body answers
415 ``unsupported_media_type``, as docs/api.md promises. ``application/json`` with
any parameters (``; charset=utf-8``) is JSON.

A body nested deeper than :data:`MAX_JSON_DEPTH` arrays or objects answers 400
``parse_error``. Without the limit ``"[" * 1000 + "]" * 1000`` raised
``RecursionError`` inside the decoder, which DRF's ``ValueError`` catch lets through
(a 500), and anything somewhat less deep reached serializers and the renderer.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH = 64


def json_depth_exceeds(data, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when ``data`` has more than ``limit`` levels of nested lists or dicts (no recursion)."""
    if not isinstance(data, (dict, list)):
        return False
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


class ApiJSONParser(JSONParser):
    """DRF's JSON parser with a nesting limit; a too-deep body is a parse error (400), never a 500."""

    max_depth = MAX_JSON_DEPTH

    def _too_deep(self) -> ParseError:
        return ParseError(
            _("The JSON body is nested too deeply: at most %(max)d levels of arrays and objects.")
            % {"max": self.max_depth},
            code="parse_error",
        )

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise self._too_deep() from None
        if json_depth_exceeds(data, self.max_depth):
            raise self._too_deep()
        return data

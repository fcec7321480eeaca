"""JSON of the API, encoded with orjson (drf-orjson-renderer), byte for byte what DRF's JSONRenderer wrote."""

from __future__ import annotations

import orjson
from drf_orjson_renderer.renderers import ORJSONRenderer
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings
from rest_framework.utils.encoders import JSONEncoder

_drf_default = JSONEncoder().default


# A renderer-context flag: the data's datetimes are in the zone to answer and may be written natively.
NATIVE_DATETIMES = "native_datetimes"
NATIVE_DATETIME_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


class ApiJSONRenderer(ORJSONRenderer):
    """orjson for speed; what orjson does not know natively goes through DRF's own encoder.

    Datetimes are passed through to it too (DRF writes ``Z`` for UTC, orjson ``+00:00``),
    as are lazy translations, decimals and UUIDs. Anything orjson refuses (an integer
    beyond 64 bits) is written by DRF's ``JSONRenderer`` instead.
    """

    options = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS

    @staticmethod
    def default(obj):
        return _drf_default(obj)

    def render(self, data, media_type=None, renderer_context=None):
        try:
            if renderer_context and renderer_context.get(NATIVE_DATETIMES) and data is not None:
                # The lean path's datetimes (core.api.lean): orjson writes them as DRF's encoder
                # would, with Z for UTC; the lean converter hands over none whose offset has seconds.
                options = NATIVE_DATETIME_OPTIONS
                if media_type and self.html_media_type in media_type:
                    options |= orjson.OPT_INDENT_2  # as ORJSONRenderer does inside the browsable API
                return orjson.dumps(data, default=self.default, option=options)
            return super().render(data, media_type, renderer_context)
        except orjson.JSONEncodeError:
            return JSONRenderer().render(data, media_type, renderer_context)


def api_renderer_classes() -> tuple:
    """REST_FRAMEWORK's renderers with DRF's JSONRenderer replaced by :class:`ApiJSONRenderer`."""
    return tuple(
        ApiJSONRenderer if renderer is JSONRenderer else renderer for renderer in api_settings.DEFAULT_RENDERER_CLASSES
    )

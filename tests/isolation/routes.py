"""Every route of the URL configuration, with what is needed to call it with chosen ids."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern

_ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


@dataclass(frozen=True)
class Route:
    pieces: tuple  # the pattern objects from the root to the route
    pattern: URLPattern

    @property
    def callback(self):
        return self.pattern.callback

    @property
    def text(self) -> str:
        return "".join(str(piece.pattern) for piece in self.pieces)

    @property
    def name(self) -> str:
        return self.pattern.name or ""

    @property
    def params(self) -> list[str]:
        names = []
        for piece in self.pieces:
            pattern = piece.pattern
            if isinstance(pattern, RoutePattern):
                names += [m["name"] for m in _ROUTE_PARAM.finditer(str(pattern))]
            elif isinstance(pattern, RegexPattern):
                names += list(pattern.regex.groupindex)
        return names

    def url(self, **values) -> str:
        parts = []
        for piece in self.pieces:
            pattern = piece.pattern
            text = str(pattern)
            if isinstance(pattern, RoutePattern):
                text = _ROUTE_PARAM.sub(lambda m: str(values[m["name"]]), text)
            else:
                text = text.removeprefix("^").removesuffix("$").replace("/?", "/")
                text = _REGEX_GROUP.sub(lambda m: str(values[m["name"]]), text)
                text = text.replace("\\.", ".").replace("\\", "")
            parts.append(text)
        url = "/" + "".join(parts)
        match = resolve(url.split("?")[0])
        if match.func is not self.callback:
            raise ValueError(f"{self.text}: built {url}, which resolves to another view ({match.view_name})")
        return url


def all_routes() -> list[Route]:
    routes = []

    def walk(patterns, pieces):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, (*pieces, entry))
            elif isinstance(entry, URLPattern):
                routes.append(Route(pieces=(*pieces, entry), pattern=entry))

    walk(get_resolver().url_patterns, ())
    return routes

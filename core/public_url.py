"""The address people reach the platform at, for links in emails and calendar invitations.

One place for it (``settings.PUBLIC_BASE_URL``; ``make run`` sets it to the served port): a
request's own address may be given instead, for links made while answering that request.
"""

from __future__ import annotations

from django.conf import settings


def public_base_url(base_url: str | None = None) -> str:
    """The base address without a trailing slash, e.g. ``https://cohorts.example.com``."""
    return (base_url or getattr(settings, "PUBLIC_BASE_URL", "") or "http://127.0.0.1:8000/").rstrip("/")


def public_url(path: str, *, base_url: str | None = None) -> str:
    """``path`` (``/mentor/…``) as an absolute address; an absolute ``path`` is returned as it is."""
    if path.startswith(("http://", "https://")):
        return path
    return f"{public_base_url(base_url)}/{path.lstrip('/')}"

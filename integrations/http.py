"""Outgoing webhook requests of the integrations app, through :mod:`core.outbound`.

An organization chooses the URL, so a delivery must not become a way to probe our
own network (server-side request forgery). :mod:`core.outbound` resolves the host,
refuses it when any of its addresses is loopback (unless
``settings.WEBHOOKS_ALLOW_LOOPBACK``), private, link-local or otherwise not global,
and connects to a vetted address itself, so DNS rebinding gains nothing. A refused
host is recorded with one neutral message, whatever the reason and before any
connection, so the attempt log is no port scanner. Redirects are not followed.

* :func:`url_refusal_reason` checks a URL when a subscription is saved;
* :func:`webhook_post` sends one delivery and never raises for network trouble.
"""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from core import outbound

RESPONSE_BODY_LIMIT = 2000  # characters of the receiver's answer kept in the attempt log
DEFAULT_TIMEOUT_SECONDS = 10

RefusedAddress = outbound.DestinationRefused  # the name this module used to raise


def address_refusal_reason(address: str) -> str | None:
    """The neutral refusal message when we never connect to ``address``, else None."""
    return None if outbound.address_allowed(address) else outbound.refusal_message()


def url_refusal_reason(url: str) -> str | None:
    """Why a URL may not be a webhook endpoint, or None (see :func:`core.outbound.url_problem`)."""
    return outbound.url_problem(url)


@dataclass
class PostResult:
    ok: bool
    status_code: int | None
    latency_ms: int
    response_body: str
    error: str


def webhook_post(*, url: str, body: str, headers: dict[str, str], timeout: float | None = None) -> PostResult:
    """POST one webhook; any 2xx is success. Never raises for network trouble."""
    timeout = timeout or getattr(settings, "WEBHOOKS_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)
    started = time.monotonic()
    try:
        response = outbound.post_json(url, body, headers, timeout=timeout, body_limit=RESPONSE_BODY_LIMIT * 4)
    except outbound.DestinationRefused as refused:
        # No connection was attempted: no latency to report, nothing about the host but the refusal.
        return PostResult(False, None, 0, "", str(refused)[:300])
    except (OSError, http.client.HTTPException) as error:
        message = str(error) or type(error).__name__
        return PostResult(False, None, int((time.monotonic() - started) * 1000), "", message[:300])
    latency = int((time.monotonic() - started) * 1000)
    error = str(_("redirect not followed")) if response.is_redirect else ""
    return PostResult(response.ok, response.status, latency, response.body[:RESPONSE_BODY_LIMIT], error)

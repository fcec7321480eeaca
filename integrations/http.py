"""Outgoing webhook requests that cannot reach private networks.

An organization chooses the URL, so a delivery must not become a way to probe our
own network (server-side request forgery). Two layers:

* :func:`url_refusal_reason` checks a URL when a subscription is saved (scheme, and
  the addresses its host resolves to, when it resolves);
* :func:`webhook_post` checks the address of the socket it actually connected to,
  after DNS, so a name that resolves to a public address at save time and to
  ``127.0.0.1`` later (DNS rebinding) is still refused. Redirects are not followed,
  and proxy settings from the environment are ignored.

``settings.WEBHOOKS_ALLOW_LOOPBACK`` allows loopback addresses (local development
and tests receive webhooks on 127.0.0.1); private and link-local ranges stay refused.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

RESPONSE_BODY_LIMIT = 2000  # characters of the receiver's answer kept in the attempt log
DEFAULT_TIMEOUT_SECONDS = 10


class RefusedAddress(OSError):
    """The webhook URL leads to an address we never send to."""


def address_refusal_reason(address: str) -> str | None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if getattr(settings, "WEBHOOKS_ALLOW_LOOPBACK", False) else _("loopback address")
    if ip.is_link_local:
        return _("link-local address")
    if ip.is_private or ip.is_reserved or ip.is_multicast or ip.is_unspecified or not ip.is_global:
        return _("private or reserved address")
    return None


def url_refusal_reason(url: str) -> str | None:
    """Why a URL may not be a webhook endpoint, or None.

    A host that does not resolve now is accepted: it may resolve later, and the
    connection-time check still applies then.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return _("Only http and https URLs are allowed.")
    if not parts.hostname:
        return _("The URL has no host.")
    if parts.username or parts.password:
        return _("Put credentials in headers on your side, not in the URL.")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return None
    for info in infos:
        reason = address_refusal_reason(info[4][0])
        if reason:
            return _("The host resolves to a %(reason)s.") % {"reason": reason}
    return None


def _check_peer(sock: socket.socket) -> None:
    address = sock.getpeername()[0]
    reason = address_refusal_reason(address)
    if reason:
        sock.close()
        raise RefusedAddress(f"refused to connect to {address}: {reason}")


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self):
        sock = super()._new_conn()
        _check_peer(sock)
        return sock


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self):
        sock = super()._new_conn()
        _check_peer(sock)
        return sock


class _GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPConnectionPool,
            "https": _GuardedHTTPSConnectionPool,
        }


def guarded_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no HTTP(S)_PROXY from the environment: the proxy would connect for us
    adapter = _GuardedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


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
    session = guarded_session()
    try:
        response = session.post(
            url, data=body.encode("utf-8"), headers=headers, timeout=timeout, allow_redirects=False, stream=True
        )
        try:
            raw = response.raw.read(RESPONSE_BODY_LIMIT * 4, decode_content=True) or b""
        finally:
            response.close()
        text = raw.decode(response.encoding or "utf-8", errors="replace")[:RESPONSE_BODY_LIMIT]
        latency = int((time.monotonic() - started) * 1000)
        ok = 200 <= response.status_code < 300
        error = "" if ok else (_("redirect not followed") if 300 <= response.status_code < 400 else "")
        return PostResult(ok, response.status_code, latency, text, error)
    except RefusedAddress as error:
        return PostResult(False, None, int((time.monotonic() - started) * 1000), "", str(error)[:300])
    except requests.RequestException as error:
        cause = error
        while getattr(cause, "__context__", None) is not None and not isinstance(cause, RefusedAddress):
            cause = cause.__context__
        message = str(cause if isinstance(cause, RefusedAddress) else error)
        return PostResult(False, None, int((time.monotonic() - started) * 1000), "", message[:300])
    finally:
        session.close()

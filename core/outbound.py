"""Outgoing HTTP to URLs a tenant chose (webhooks), without reaching our own network.

An organization picks the URL, so a request to it must not become a way to probe or
reach private networks (server-side request forgery). Every request and probe goes
through three steps, in this order:

1. **resolve** the host once (``getaddrinfo``);
2. **validate** every address it resolved to: loopback (unless
   ``settings.WEBHOOKS_ALLOW_LOOPBACK``, for local development and tests), private,
   link-local, reserved, multicast, unspecified, otherwise non-global and
   IPv4-mapped IPv6 addresses are refused, and one bad address refuses the whole
   name (a name that answers both a public and a private address is refused);
3. **connect** to one of the vetted addresses itself, never to the name again, so
   a name that resolves differently a moment later (DNS rebinding) gains nothing.
   The ``Host`` header stays the URL's ``host[:port]``; for https the TLS server name
   (SNI) is the host name and the certificate is verified against it.

A refused target raises :class:`DestinationRefused` with one message,
:func:`refusal_message`, whatever the reason (loopback, a private address, an
address with or without something listening), and before any connection to it is
attempted: neither the text nor the time it takes says whether a port is open.

Redirects are not followed (the caller sees the 3xx), proxy settings from the
environment are ignored (nothing here reads them), every step has a timeout and
at most ``body_limit`` bytes of the answer are read.

:func:`url_problem` checks a URL when it is saved; :func:`post_json` sends one
POST; :func:`probe` only connects (and shakes hands, for https).
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

DEFAULT_TIMEOUT_SECONDS = 10
DEFAULT_BODY_LIMIT = 8000  # bytes of the answer read at most
USER_AGENT = "CohortPlatform/1"


class DestinationRefused(Exception):
    """We do not send to this URL. The message never says why a host was refused."""


def refusal_message() -> str:
    """The one message of every refused host: the same for each reason."""
    return str(_("The URL's host is not allowed."))


def address_allowed(address: str) -> bool:
    """May we connect to this IP address (a string, as ``getaddrinfo`` gives it)?"""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return False  # ::ffff:10.0.0.1 is 10.0.0.1 to the kernel
        embedded = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not address_allowed(str(embedded)):
            return False
    if ip.is_loopback:
        return bool(getattr(settings, "WEBHOOKS_ALLOW_LOOPBACK", False))
    if ip.is_private or ip.is_link_local or ip.is_reserved or ip.is_multicast or ip.is_unspecified:
        return False
    return ip.is_global


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # ASCII (IDNA) host name or IP literal, without brackets
    port: int
    path: str  # path and query, never empty

    @property
    def default_port(self) -> int:
        return 443 if self.scheme == "https" else 80


def _parse(url: str) -> tuple[_Target | None, str | None]:
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https"):
        return None, str(_("Only http and https URLs are allowed."))
    if not parts.hostname:
        return None, str(_("The URL has no host."))
    if parts.username or parts.password:
        return None, str(_("Put credentials in headers on your side, not in the URL."))
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 0 < port < 65536:
        return None, str(_("The URL's port is not valid."))
    try:
        host = parts.hostname.encode("idna").decode("ascii") if not parts.hostname.isascii() else parts.hostname
    except UnicodeError:
        return None, str(_("The URL has no host."))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    default = 443 if parts.scheme == "https" else 80
    return _Target(parts.scheme, host, port or default, path), None


def _resolve(target: _Target) -> list[tuple]:
    """Every address of the host, all vetted; refuse when any one is not allowed."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except UnicodeError as error:  # a label too long for IDNA: no such name
        raise socket.gaierror(socket.EAI_NONAME, str(error)) from error
    if not infos or not all(address_allowed(info[4][0]) for info in infos):
        raise DestinationRefused(refusal_message())
    return infos


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be saved as a webhook endpoint, or None.

    The scheme is http or https, there are no credentials in the URL, there is a
    host; when the host resolves now, every address must be allowed (with the one
    neutral message otherwise). A host that does not resolve now is accepted: it may
    later, and each request checks again.
    """
    target, problem = _parse(url)
    if problem:
        return problem
    try:
        _resolve(target)
    except DestinationRefused as refused:
        return str(refused)
    except OSError:
        return None  # does not resolve now
    return None


class _Deadline:
    def __init__(self, timeout: float):
        self.ends = time.monotonic() + timeout

    def remaining(self) -> float:
        left = self.ends - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        return left


def _connect(target: _Target, deadline: _Deadline) -> socket.socket:
    """A TCP (and, for https, verified TLS) socket to one of the vetted addresses."""
    last_error: OSError | None = None
    for family, kind, proto, _name, sockaddr in _resolve(target):
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(deadline.remaining())
            sock.connect(sockaddr)
        except OSError as error:
            sock.close()
            last_error = error
            continue
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if target.scheme == "https":
                context = ssl.create_default_context()  # verifies the chain and the host name
                sock = context.wrap_socket(sock, server_hostname=target.host)
            return sock
        except BaseException:
            sock.close()
            raise
    raise last_error or OSError("no address to connect to")


class _VettedConnection(http.client.HTTPConnection):
    """http.client speaking over a socket we opened to a vetted address.

    ``host`` and ``port`` are the URL's, so ``Host`` is what the receiver expects.
    """

    def __init__(self, target: _Target, deadline: _Deadline):
        super().__init__(target.host, target.port, timeout=deadline.remaining())
        self.default_port = target.default_port
        self._target = target
        self._deadline = deadline

    def connect(self):
        self.sock = _connect(self._target, self._deadline)


@dataclass
class Response:
    status: int
    body: str  # at most ``body_limit`` bytes, decoded
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def is_redirect(self) -> bool:
        return 300 <= self.status < 400


def _target_or_refuse(url: str) -> _Target:
    target, problem = _parse(url)
    if problem:
        raise DestinationRefused(problem)
    return target


def post_json(
    url: str,
    body: bytes | str | dict | list,
    headers: dict[str, str] | None = None,
    timeout: float | None = None,
    body_limit: int = DEFAULT_BODY_LIMIT,
) -> Response:
    """POST ``body`` (bytes or text as is, anything else as JSON) and return the answer.

    Raises :class:`DestinationRefused` for a URL or host we do not send to, before
    connecting; ``OSError`` (refused, reset, timed out, DNS, TLS) or
    ``http.client.HTTPException`` when the receiver cannot be reached or answers
    nonsense. Any status, 3xx included, is returned, not raised.
    """
    target = _target_or_refuse(url)
    deadline = _Deadline(timeout or getattr(settings, "WEBHOOKS_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
    if isinstance(body, str):
        data = body.encode("utf-8")
    elif isinstance(body, bytes):
        data = body
    else:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    sent_headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
    lowered = {name.lower(): name for name in sent_headers}
    for name, value in (headers or {}).items():
        sent_headers.pop(lowered.get(name.lower(), name), None)
        sent_headers[name] = value
    connection = _VettedConnection(target, deadline)
    try:
        connection.connect()
        sock = connection.sock  # getresponse() lets go of it when the receiver closes after answering
        connection.request("POST", target.path, body=data, headers=sent_headers)
        sock.settimeout(deadline.remaining())
        response = connection.getresponse()
        sock.settimeout(deadline.remaining())
        raw = response.read(body_limit) or b""
        response.close()
        charset = response.headers.get_content_charset() or "utf-8"
        try:
            text = raw.decode(charset, errors="replace")
        except LookupError:
            text = raw.decode("utf-8", errors="replace")
        return Response(status=response.status, body=text, headers=dict(response.headers.items()))
    finally:
        connection.close()


def probe(url: str, timeout: float | None = None) -> None:
    """Connect to the URL's host (TCP, and the TLS handshake for https) and hang up.

    Sends no request. Raises like :func:`post_json` when it cannot connect.
    """
    target = _target_or_refuse(url)
    deadline = _Deadline(timeout or getattr(settings, "WEBHOOKS_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
    _connect(target, deadline).close()

"""core.outbound: resolve, validate every address, connect to a vetted one; one neutral refusal."""

from __future__ import annotations

import json
import select
import shutil
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import translation

from core import outbound

NEUTRAL = "The URL's host is not allowed."


@pytest.fixture(autouse=True)
def _english():
    """The messages are compared in English, whatever an earlier test left active."""
    with translation.override("en"):
        yield


class _Server(ThreadingHTTPServer):
    """Counts every TCP connection it accepts; :meth:`connections` adds those still waiting."""

    daemon_threads = True

    def __init__(self, handler, status=200, body=b"ok", headers=None):
        super().__init__(("127.0.0.1", 0), handler)
        self.accepted = 0
        self.requests: list[dict] = []
        self.status = status
        self.body = body
        self.extra_headers = headers or {}

    def get_request(self):
        request = super().get_request()
        self.accepted += 1
        return request


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append(
            {"path": self.path, "headers": dict(self.headers), "body": body, "method": self.command}
        )
        self.send_response(self.server.status)
        for name, value in self.server.extra_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, *args):
        pass


class _Running:
    def __init__(self, server):
        self.server = server
        self.port = server.server_address[1]
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()
        self.stopped = False

    def stop(self):
        if not self.stopped:
            self.server.shutdown()
            self.stopped = True

    def connections(self) -> int:
        """Accepted connections plus any completed handshake still in the backlog (deterministic)."""
        self.stop()
        waiting = 0
        self.server.socket.setblocking(False)
        while select.select([self.server.socket], [], [], 0)[0]:
            try:
                self.server.socket.accept()[0].close()
            except BlockingIOError:
                break
            waiting += 1
        return self.server.accepted + waiting

    @property
    def requests(self):
        return self.server.requests


@pytest.fixture
def open_server():
    running = _Running(_Server(_Handler))
    yield running
    running.stop()
    running.server.server_close()


@pytest.fixture
def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    return port


def _info(address: str, port: int):
    if ":" in address:
        return (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0))
    return (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))


@pytest.fixture
def resolver(monkeypatch):
    """Answer chosen names with chosen addresses (a DNS the tenant controls); count the lookups."""
    real = socket.getaddrinfo
    answers: dict[str, list[list[str]]] = {}
    lookups: list[str] = []

    def fake(host, port, *args, **kwargs):
        if host in answers:
            lookups.append(host)
            queue = answers[host]
            addresses = queue.pop(0) if len(queue) > 1 else queue[0]
            return [_info(address, int(port)) for address in addresses]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)

    class Resolver:
        def answer(self, host, *address_lists):
            answers[host] = [list(addresses) for addresses in address_lists]

        @property
        def lookups(self):
            return lookups

    return Resolver()


@pytest.fixture
def connects(monkeypatch):
    """Every address a socket tried to connect to (the attempt still happens)."""
    attempts: list = []
    real = socket.socket.connect

    def record(sock, address):
        attempts.append(address)
        return real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", record)
    return attempts


def _refusal(call) -> str:
    with pytest.raises(outbound.DestinationRefused) as refused:
        call()
    return str(refused.value)


# --- the side channel: open and closed ports look the same ---------------------------------


def test_an_open_and_a_closed_loopback_port_are_refused_alike_and_nothing_connects(
    settings, open_server, closed_port, connects
):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    messages = {
        "open": _refusal(lambda: outbound.post_json(f"http://127.0.0.1:{open_server.port}/hooks", {"a": 1})),
        "closed": _refusal(lambda: outbound.post_json(f"http://127.0.0.1:{closed_port}/hooks", {"a": 1})),
        "probe open": _refusal(lambda: outbound.probe(f"http://127.0.0.1:{open_server.port}/")),
        "probe closed": _refusal(lambda: outbound.probe(f"http://127.0.0.1:{closed_port}/")),
    }
    assert set(messages.values()) == {NEUTRAL}
    assert connects == []
    assert open_server.connections() == 0
    assert open_server.requests == []


def test_a_private_address_with_or_without_a_listener_gets_the_same_refusal(settings, resolver, connects):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True  # allowing loopback must not admit private ranges
    resolver.answer("intranet.example.com", ["10.0.0.5"])
    resolver.answer("router.example.com", ["192.168.1.1"])
    resolver.answer("metadata.example.com", ["169.254.169.254"])
    messages = {
        _refusal(lambda: outbound.post_json("http://intranet.example.com:5432/", b"{}")),
        _refusal(lambda: outbound.post_json("http://router.example.com:22/", b"{}")),
        _refusal(lambda: outbound.post_json("http://metadata.example.com/latest/meta-data", b"{}")),
        _refusal(lambda: outbound.probe("https://intranet.example.com:6379/")),
    }
    assert messages == {NEUTRAL}
    assert connects == []


def test_the_refusal_is_translated_and_still_says_nothing_more(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    with translation.override("ko"):
        message = _refusal(lambda: outbound.post_json("http://127.0.0.1:1/", b"{}"))
    assert message == "이 URL의 호스트는 허용되지 않습니다."


# --- DNS rebinding and mixed answers ---------------------------------------------------------


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.5", "::1", "::ffff:127.0.0.1", "fe80::1", "0.0.0.0"])
def test_a_name_that_rebinds_to_a_private_address_at_delivery_time_is_refused(
    settings, resolver, connects, open_server, address
):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    # Public when the URL was saved, private when it is used.
    resolver.answer("hooks.example.com", ["93.184.216.34"], [address])
    url = f"http://hooks.example.com:{open_server.port}/hooks"
    assert outbound.url_problem(url) is None
    assert _refusal(lambda: outbound.post_json(url, {"event": "x"})) == NEUTRAL
    assert _refusal(lambda: outbound.probe(url)) == NEUTRAL
    assert connects == []
    assert open_server.connections() == 0


def test_a_name_with_a_public_and_a_private_address_is_refused_without_trying_either(settings, resolver, connects):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    resolver.answer("mixed.example.com", ["93.184.216.34", "10.0.0.5"])
    resolver.answer("mixed6.example.com", ["2606:2800:220:1:248:1893:25c8:1946", "::1"])
    assert _refusal(lambda: outbound.post_json("https://mixed.example.com/hooks", b"{}")) == NEUTRAL
    assert _refusal(lambda: outbound.post_json("https://mixed6.example.com/hooks", b"{}")) == NEUTRAL
    assert outbound.url_problem("https://mixed.example.com/hooks") == NEUTRAL
    assert connects == []


def test_the_name_is_resolved_once_and_the_vetted_address_is_the_one_connected_to(
    settings, resolver, connects, open_server
):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    # A second lookup would answer a private address; there must not be one.
    resolver.answer("hooks.example.test", ["127.0.0.1"], ["10.0.0.5"])
    response = outbound.post_json(f"http://hooks.example.test:{open_server.port}/in", b"{}")
    assert response.status == 200
    assert resolver.lookups == ["hooks.example.test"]
    assert connects == [("127.0.0.1", open_server.port)]


# --- what a permitted request looks like -----------------------------------------------------


def test_with_loopback_allowed_a_post_reaches_the_receiver_with_the_original_host_header(
    settings, resolver, open_server
):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    resolver.answer("hooks.example.test", ["::1", "127.0.0.1"])  # ::1 has no listener: the next address is tried
    open_server.server.body = "받았습니다".encode()
    response = outbound.post_json(
        f"http://hooks.example.test:{open_server.port}/in?team=7",
        {"text": "안녕"},
        {"webhook-id": "msg_1", "content-type": "application/json"},
        timeout=5,
    )
    assert (response.status, response.ok, response.body) == (200, True, "받았습니다")
    (request,) = open_server.requests
    assert request["method"] == "POST" and request["path"] == "/in?team=7"
    assert request["headers"]["Host"] == f"hooks.example.test:{open_server.port}"
    assert request["headers"]["webhook-id"] == "msg_1"
    assert json.loads(request["body"]) == {"text": "안녕"}
    # The caller's content-type replaced the default instead of doubling it.
    assert [name for name in request["headers"] if name.lower() == "content-type"] == ["content-type"]


def test_the_default_port_is_left_out_of_the_host_header(settings, resolver, monkeypatch, open_server):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    resolver.answer("hooks.example.test", ["127.0.0.1"])
    real = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect", lambda sock, address: real(sock, (address[0], open_server.port)))
    outbound.post_json("http://hooks.example.test/in", b"{}")
    (request,) = open_server.requests
    assert request["headers"]["Host"] == "hooks.example.test"


def test_redirects_are_returned_not_followed(settings, open_server):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    open_server.server.status = 307
    open_server.server.extra_headers = {"Location": f"http://127.0.0.1:{open_server.port}/elsewhere"}
    response = outbound.post_json(f"http://127.0.0.1:{open_server.port}/hooks", b"{}")
    assert response.status == 307 and response.is_redirect and not response.ok
    assert [request["path"] for request in open_server.requests] == ["/hooks"]


def test_the_answer_is_read_only_up_to_the_limit(settings, open_server):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    open_server.server.status = 500
    open_server.server.body = b"x" * 100_000
    response = outbound.post_json(f"http://127.0.0.1:{open_server.port}/", b"{}", body_limit=1000)
    assert response.status == 500 and response.body == "x" * 1000


def test_proxy_settings_from_the_environment_are_ignored(settings, monkeypatch, open_server):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    proxy = _Running(_Server(_Handler))
    try:
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        assert outbound.post_json(f"http://127.0.0.1:{open_server.port}/", b"{}").status == 200
        assert proxy.connections() == 0
        assert len(open_server.requests) == 1
    finally:
        proxy.stop()
        proxy.server.server_close()


def test_a_receiver_that_never_answers_times_out(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the handshake, never answers
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            outbound.post_json(f"http://127.0.0.1:{silent.getsockname()[1]}/", b"{}", timeout=0.5)
        assert time.monotonic() - started < 3
    finally:
        silent.close()


def test_probe_connects_without_sending_a_request(settings, open_server, closed_port):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    outbound.probe(f"http://127.0.0.1:{open_server.port}/hooks", timeout=2)
    with pytest.raises(ConnectionRefusedError):
        outbound.probe(f"http://127.0.0.1:{closed_port}/hooks", timeout=2)
    assert open_server.connections() == 1
    assert open_server.requests == []


# --- https: SNI and certificate checked against the host name --------------------------------


@pytest.fixture
def tls_server(tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=hooks.example.test"]
        + ["-addext", "subjectAltName=DNS:hooks.example.test", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    server = _Server(_Handler)
    server_names: list = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    running = _Running(server)
    running.cert = cert
    running.server_names = server_names
    yield running
    running.stop()
    server.server_close()


def test_https_goes_to_the_vetted_address_with_the_host_name_as_sni_and_for_the_certificate(
    settings, resolver, monkeypatch, tls_server
):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    resolver.answer("hooks.example.test", ["127.0.0.1"])
    resolver.answer("other.example.test", ["127.0.0.1"])
    url = f"https://hooks.example.test:{tls_server.port}/in"

    # Not trusted: verification is on.
    with pytest.raises(ssl.SSLCertVerificationError):
        outbound.post_json(url, b"{}", timeout=5)

    trusting = ssl.create_default_context(cafile=str(tls_server.cert))
    monkeypatch.setattr(outbound.ssl, "create_default_context", lambda: trusting)
    assert outbound.post_json(url, b"{}", timeout=5).status == 200
    (request,) = tls_server.requests
    assert request["headers"]["Host"] == f"hooks.example.test:{tls_server.port}"
    assert "hooks.example.test" in tls_server.server_names

    # Same trusted certificate, same address, another name: the name is what is verified.
    with pytest.raises(ssl.SSLCertVerificationError):
        outbound.post_json(f"https://other.example.test:{tls_server.port}/in", b"{}", timeout=5)


# --- checking a URL when it is saved ---------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://hooks.example.com/", "Only http and https URLs are allowed."),
        ("hooks.example.com/path", "Only http and https URLs are allowed."),
        ("https:///path", "The URL has no host."),
        ("https://user:secret@hooks.example.com/", "Put credentials in headers on your side, not in the URL."),
        ("https://hooks.example.com:99999/", "The URL's port is not valid."),
        ("https://hooks.example.com:0/", "The URL's port is not valid."),
    ],
)
def test_url_problem_names_what_is_wrong_with_the_url_itself(url, problem):
    assert outbound.url_problem(url) == problem
    with pytest.raises(outbound.DestinationRefused, match=problem.replace(".", r"\.")):
        outbound.post_json(url, b"{}")


def test_a_host_that_does_not_resolve_now_is_accepted_when_saving(resolver, monkeypatch):
    def no_such_name(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    assert outbound.url_problem("https://not-yet.example.com/hooks") is None
    with pytest.raises(socket.gaierror):
        outbound.post_json("https://not-yet.example.com/hooks", b"{}")


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("127.8.9.10", False),
        ("::1", False),
        ("10.1.2.3", False),
        ("172.16.0.9", False),
        ("192.168.0.1", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("169.254.169.254", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("224.0.0.1", False),
        ("0.0.0.0", False),
        ("::", False),
        ("240.0.0.1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:93.184.216.34", False),  # IPv4-mapped: refused whatever it maps to
        ("2002:7f00:1::", False),  # 6to4 around 127.0.0.1
        ("not an address", False),
    ],
)
def test_address_allowed(settings, address, allowed):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    assert outbound.address_allowed(address) is allowed


def test_loopback_is_admitted_only_by_the_setting(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    assert outbound.address_allowed("127.0.0.1") and outbound.address_allowed("::1")
    assert not outbound.address_allowed("10.0.0.5")
    assert not outbound.address_allowed("169.254.169.254")
    assert not outbound.address_allowed("0.0.0.0")
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    assert not outbound.address_allowed("127.0.0.1")


def test_core_outbound_imports_no_app_of_the_project():
    import ast
    from pathlib import Path

    tree = ast.parse(Path(outbound.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names} | {
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    }
    assert not {name for name in imported if name.split(".")[0] in {"integrations", "notifications"}}

"""Local fakes of the providers' HTTP APIs, started in a thread on 127.0.0.1 (no network).

:class:`FakeSolapi` speaks the part of Solapi's API that ``notifications.solapi`` uses
(``POST /messages/v4/send``, ``GET /messages/v4/list``) and checks every request's
``HMAC-SHA256`` signature as Solapi does (a wrong one answers 401
``SignatureDoesNotMatch``). Faults to put where they hurt:

* ``refuse_alimtalk``: an AlimTalk is refused at once (400, as for a template that
  does not match); text messages still go;
* ``undeliverable_alimtalk``: AlimTalk is accepted (2000) and later reported not
  delivered (3104: the recipient does not use KakaoTalk);
* ``hold_after_accept_number = n``: the n-th message is recorded (the provider has
  it) and the answer only comes on :meth:`release_hold`: the window in which a lost
  worker used to mean a second send.

:class:`FakeChat` answers like Slack's ``chat.postMessage`` (``{"ok": true, "ts": ...}``)
on ``/api/chat.postMessage`` and like a Teams incoming webhook (202) anywhere else.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

API_KEY = "NCSFAKEKEY0000001"
API_SECRET = "fake-secret-of-the-tests"
PF_ID = "KA01PF0000000000000000000000001"
SENDER = "0212345678"

AUTH = re.compile(
    r"HMAC-SHA256 apiKey=(?P<key>[^,]+), date=(?P<date>[^,]+), salt=(?P<salt>[^,]+), signature=(?P<sig>\w+)"
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class FakeSolapi:
    def __init__(self, *, api_key: str = API_KEY, api_secret: str = API_SECRET):
        self.api_key = api_key
        self.api_secret = api_secret
        self.lock = threading.Lock()
        self.messages: list[dict] = []  # every message accepted, in order
        self.reports: dict[str, str] = {}  # message id -> status code reported by GET /list
        self.refused: list[dict] = []
        self.bad_signatures = 0
        self.report_requests = 0
        self.refuse_alimtalk = False
        self.undeliverable_alimtalk = False
        self.hold_after_accept_number: int | None = None
        self.holding = threading.Event()
        self.released = threading.Event()
        self._ids = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorized(self) -> bool:
                match = AUTH.fullmatch(self.headers.get("Authorization", ""))
                expected = ""
                if match and match["key"] == fake.api_key:
                    expected = hmac.new(
                        fake.api_secret.encode(), (match["date"] + match["salt"]).encode(), hashlib.sha256
                    ).hexdigest()
                if not match or not hmac.compare_digest(expected, match["sig"]):
                    with fake.lock:
                        fake.bad_signatures += 1
                    self._json(401, {"errorCode": "SignatureDoesNotMatch", "errorMessage": "bad signature"})
                    return False
                return True

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self._authorized():
                    return
                if urlsplit(self.path).path != "/messages/v4/send":
                    self._json(404, {"errorCode": "NotFound", "errorMessage": self.path})
                    return
                message = body.get("message") or {}
                alimtalk = message.get("type") == "ATA"
                if alimtalk and fake.refuse_alimtalk:
                    with fake.lock:
                        fake.refused.append(message)
                    self._json(400, {"errorCode": "ValidationError", "errorMessage": "template does not match"})
                    return
                with fake.lock:
                    number = len(fake.messages) + 1
                    message_id = f"M4V{next(fake._ids):020d}"
                    fake.messages.append({**message, "messageId": message_id})
                    fake.reports[message_id] = "3104" if alimtalk and fake.undeliverable_alimtalk else "4000"
                if fake.hold_after_accept_number == number:
                    fake.holding.set()
                    fake.released.wait(60)
                self._json(
                    200,
                    {
                        "groupId": "G4V" + message_id[3:],
                        "messageId": message_id,
                        "accountId": "12925149",
                        "statusCode": "2000",
                        "statusMessage": "정상 접수(이통사로 접수 예정)",
                        "to": message.get("to"),
                        "from": message.get("from"),
                        "type": message.get("type") or "SMS",
                        "country": message.get("country", "82"),
                    },
                )

            def do_GET(self):
                if not self._authorized():
                    return
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                if parts.path != "/messages/v4/list" or query.get("criteria") != ["messageId"]:
                    self._json(404, {"errorCode": "NotFound", "errorMessage": self.path})
                    return
                message_id = query.get("value", [""])[0]
                with fake.lock:
                    fake.report_requests += 1
                    code = fake.reports.get(message_id)
                listed = {}
                if code:
                    reason = "카카오톡 미사용자" if code == "3104" else None
                    listed[message_id] = {"messageId": message_id, "statusCode": code, "reason": reason}
                self._json(200, {"startKey": None, "limit": 20, "messageList": listed})

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> FakeSolapi:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def release_hold(self) -> None:
        self.released.set()

    def of_type(self, kind: str | None) -> list[dict]:
        with self.lock:
            return [m for m in self.messages if m.get("type") == kind]


class FakeChat:
    """Slack's ``chat.postMessage`` and Teams incoming webhooks, recording what they get."""

    def __init__(self):
        self.received: list[dict] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake.lock:
                    fake.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if self.path == "/api/chat.postMessage":
                    if self.headers.get("Authorization") != "Bearer xoxb-test-token":
                        data = json.dumps({"ok": False, "error": "invalid_auth"}).encode()
                    else:
                        data = json.dumps(
                            {"ok": True, "channel": body.get("channel"), "ts": "1700000000.000100"}
                        ).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                self.send_response(202)
                self.send_header("Content-Length", "1")
                self.end_headers()
                self.wfile.write(b"1")

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> FakeChat:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

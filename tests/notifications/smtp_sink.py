"""A local SMTP server for tests (aiosmtpd) that records what it accepts.

Two ways to stall on the n-th message it is handed, until :meth:`SmtpSink.release_hold`:

* ``hold_message_number = n``: *before* accepting; the held message is then refused
  (451) and never recorded (a fault before the provider has the message);
* ``hold_after_accept_number = n``: *after* accepting; the message is recorded (the
  provider has it and will deliver it) and the ``250`` is only sent on release: a fault
  in that window is the one that used to cause duplicates.

:meth:`go_down` and :meth:`come_back` stop and restart the server on the same port
(connections are refused meanwhile): an outage.
"""

from __future__ import annotations

import asyncio
import email
import socket
import threading
import time
from email.policy import default as default_policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Handler:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        sink = self.sink
        with sink.lock:
            sink.handed += 1
            number = sink.handed
        if sink.hold_message_number == number:
            sink.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, sink.released.wait, 60)
            return "451 4.3.0 Try again later"
        if sink.delay_seconds:
            await asyncio.sleep(sink.delay_seconds)
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        with sink.lock:
            sink.messages.append(message)
        if sink.hold_after_accept_number == number:
            sink.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, sink.released.wait, 60)
        return "250 2.0.0 OK"


class SmtpSink:
    def __init__(self, *, delay_seconds: float = 0.0):
        self.port = free_port()
        self.messages: list = []
        self.lock = threading.Lock()
        self.handed = 0
        self.delay_seconds = delay_seconds
        self.hold_message_number: int | None = None
        self.hold_after_accept_number: int | None = None
        self.holding = threading.Event()
        self.released = threading.Event()
        self._controller = self._new_controller()

    def _new_controller(self) -> Controller:
        return Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self._controller.stop()

    def release_hold(self) -> None:
        self.released.set()

    def go_down(self) -> None:
        self._controller.stop()

    def come_back(self) -> None:
        self._controller = self._new_controller()
        self._controller.start()

    def duplicates(self) -> list[str]:
        ids = self.message_ids()
        return sorted({i for i in ids if ids.count(i) > 1})

    def count(self) -> int:
        with self.lock:
            return len(self.messages)

    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(m["Message-ID"]) for m in self.messages]

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count() >= count:
                return True
            time.sleep(0.05)
        return self.count() >= count

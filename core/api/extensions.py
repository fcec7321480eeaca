"""What the API bases take from the apps built on core, registered by those apps at start-up.

``core`` imports no app (``tests/core/test_dependencies.py``). Request-level pieces that
live in an app register themselves here from their ``AppConfig.ready()`` and core's bases
call them through this module: idempotent POSTs (``integrations.idempotency``).
Without a registration the bases simply do without (no ``Idempotency-Key`` support).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class IdempotencyHooks:
    #: ``begin(request=, organization=)``: a record to finish, or None; raises ``replay``.
    begin: Callable
    #: ``finish(record=, response=)``: store the response for replays.
    finish: Callable
    #: The exception ``begin`` raises to answer with a stored response (its ``response``).
    replay: type[Exception]
    #: The longest ``Idempotency-Key`` accepted (for the schema).
    max_key_length: int


_idempotency: IdempotencyHooks | None = None


def register_idempotency(hooks: IdempotencyHooks) -> None:
    global _idempotency
    _idempotency = hooks


def idempotency() -> IdempotencyHooks | None:
    return _idempotency

"""Circuit breakers per way out: stop claiming rows while a server is down, probe, resume.

Without them an outage spends every due row's retries at once: each relay claims the
next row, fails, backs it off, claims the next... and after half an hour of SMTP trouble
every reminder of the day is marked failed. With them:

* a channel-level failure (connection refused or reset, timeout, an SMTP 4xx, a webhook
  5xx or 429; see :func:`notifications.channels.is_channel_failure`) counts against the
  channel's :class:`~notifications.models.ChannelCircuit`;
* after ``FAILURES_TO_OPEN`` in a row the circuit opens: relays no longer claim rows
  for that channel, so the rows keep their attempts and their place in the queue;
* when ``probe_at`` has passed, one relay (an atomic UPDATE decides which) probes the
  server without a message (SMTP: connect and greet; webhook: connect). A failed
  probe doubles the wait (up to ``PROBE_MAX_SECONDS``); a good one closes the circuit
  half-way (one more failure opens it again) and the rows go out;
* a success closes it completely.

State lives in PostgreSQL (or SQLite) so every worker sees the same circuit. The table
holds no tenant data: keys name servers (``smtp:mail.example.com:587``) and webhook
hosts, which organizations that post to the same host share by nature.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from notifications.models import ChannelCircuit

logger = logging.getLogger(__name__)


def _setting(name: str, default):
    return getattr(settings, name, default)


def failures_to_open() -> int:
    return int(_setting("NOTIFICATIONS_BREAKER_FAILURES", 3))


def probe_seconds(failed_probes: int) -> float:
    """Wait before the next probe: doubles with every failed probe, capped."""
    first = float(_setting("NOTIFICATIONS_BREAKER_PROBE_SECONDS", 5.0))
    most = float(_setting("NOTIFICATIONS_BREAKER_PROBE_MAX_SECONDS", 30.0))
    return min(first * (2 ** min(failed_probes, 10)), most)


@dataclass(frozen=True)
class Verdict:
    """May a relay claim rows of this channel now? If not, when to look again."""

    allowed: bool
    probe: bool = False  # this relay won the right to probe first
    retry_in_seconds: float | None = None


def check(key: str) -> Verdict:
    """Whether rows of channel ``key`` may be claimed now (one read, one UPDATE to win a probe)."""
    circuit = ChannelCircuit.objects.filter(key=key).first()
    if circuit is None or circuit.state == ChannelCircuit.State.CLOSED:
        return Verdict(allowed=True)
    now = timezone.now()
    if circuit.probe_at and circuit.probe_at > now:
        return Verdict(allowed=False, retry_in_seconds=(circuit.probe_at - now).total_seconds())
    # Win the probe: only one relay moves probe_at forward.
    wait = probe_seconds(circuit.probes)
    won = ChannelCircuit.objects.filter(
        pk=circuit.pk, state=ChannelCircuit.State.OPEN, probe_at=circuit.probe_at
    ).update(probe_at=now + datetime.timedelta(seconds=wait))
    if not won:
        return Verdict(allowed=False, retry_in_seconds=wait)
    return Verdict(allowed=False, probe=True, retry_in_seconds=wait)


def probe_succeeded(key: str) -> None:
    """Half-close: rows may go out again; one more failure reopens the circuit at once."""
    ChannelCircuit.objects.filter(key=key).update(
        state=ChannelCircuit.State.CLOSED,
        consecutive_failures=max(failures_to_open() - 1, 0),
        probe_at=None,
        probes=0,
        updated_at=timezone.now(),
    )
    logger.warning("channel %s answers again: sending resumes", key)


def probe_failed(key: str, error: str) -> None:
    ChannelCircuit.objects.filter(key=key).update(
        probes=F("probes") + 1, last_error=error[:2000], updated_at=timezone.now()
    )
    logger.warning("channel %s still unreachable: %s", key, error)


def record_success(key: str) -> None:
    """A message went out: the channel is healthy (a write only when it was not already)."""
    ChannelCircuit.objects.filter(key=key).exclude(state=ChannelCircuit.State.CLOSED, consecutive_failures=0).update(
        state=ChannelCircuit.State.CLOSED,
        consecutive_failures=0,
        opened_at=None,
        probe_at=None,
        probes=0,
        updated_at=timezone.now(),
    )


def record_failure(key: str, error: str) -> bool:
    """A channel-level failure; returns True when it opened the circuit."""
    now = timezone.now()
    with transaction.atomic():
        circuit, _created = ChannelCircuit.objects.select_for_update().get_or_create(key=key)
        circuit.consecutive_failures += 1
        circuit.last_error = error[:2000]
        opened = circuit.state == ChannelCircuit.State.CLOSED and circuit.consecutive_failures >= failures_to_open()
        if opened:
            circuit.state = ChannelCircuit.State.OPEN
            circuit.opened_at = circuit.opened_at or now
            circuit.probes = 0
            circuit.probe_at = now + datetime.timedelta(seconds=probe_seconds(0))
        circuit.save()
    if opened:
        logger.error("channel %s unreachable (%s failures in a row): sending paused", key, circuit.consecutive_failures)
    return opened


def open_circuits(keys: list[str]) -> list[ChannelCircuit]:
    """Which of ``keys`` are down now (the outbox's banner shows an organization its own)."""
    return list(ChannelCircuit.objects.filter(key__in=keys, state=ChannelCircuit.State.OPEN).order_by("opened_at"))

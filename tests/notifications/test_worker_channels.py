"""KakaoTalk through a real Celery worker, Redis and PostgreSQL, and the fake Solapi.

The worker is a subprocess (as in test_worker.py); the fake provider runs in a thread
of this process on 127.0.0.1 and checks every request's HMAC signature.
"""

from __future__ import annotations

import signal
import time

import pytest

from notifications.models import Channel, DeliveryAttempt, Notification
from tests.factories.notifications import NotificationFactory
from tests.fixtures.notifications import kakao_set_up
from tests.notifications import test_worker as worker_tests
from tests.notifications.test_worker import DELIVERY_TIMEOUT, LEASE_SECONDS, _client, _environment, _statuses, _wait

# The worker tests' fixtures: a subprocess per worker, and this app's Redis database.
processes = worker_tests.processes
shared_broker = worker_tests.shared_broker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _kakao_rows(organization, count):
    return [
        NotificationFactory(
            organization=organization,
            channel=Channel.KAKAO,
            recipient=f"founder{i}@startup.test",
            body_html="",
            body_text=f"Founder {i}, Customer interviews is due today.",
            payload={
                "to": f"+8210123400{i:02d}",
                "template_id": "KA01TP-due",
                "variables": {"#{name}": f"Founder {i}"},
            },
        )
        for i in range(count)
    ]


def _env(shared_broker, smtp_sink, fake_solapi):
    return _environment(shared_broker, smtp_sink.url, SOLAPI_BASE_URL=fake_solapi.url, WEBHOOKS_ALLOW_LOOPBACK="true")


def test_a_worker_sends_alimtalk_and_falls_back_to_sms_once(
    postgres, shared_broker, smtp_sink, processes, organization, always_open_settings, fake_solapi
):
    kakao_set_up(organization)
    fake_solapi.refuse_alimtalk = True
    rows = _kakao_rows(organization, 3)
    processes.env = _env(shared_broker, smtp_sink, fake_solapi)
    processes.worker("worker")  # its start rings the relays
    assert _wait(lambda: len(fake_solapi.messages) == 3, DELIVERY_TIMEOUT), processes.tails()
    assert _wait(lambda: _statuses(organization) == {"sent": 3}, DELIVERY_TIMEOUT), processes.tails()
    assert sorted(m["to"] for m in fake_solapi.messages) == [f"0101234000{i}" for i in range(3)]
    assert all("kakaoOptions" not in m for m in fake_solapi.messages)  # the SMS fallbacks
    assert len(fake_solapi.refused) == 3 and fake_solapi.bad_signatures == 0
    for row in rows:
        routes = list(
            DeliveryAttempt.objects.for_organization(organization)
            .filter(notification=row)
            .order_by("id")
            .values_list("route", "succeeded")
        )
        assert routes == [("alimtalk", False), ("sms", True)]


def test_the_worker_killed_after_solapi_accepted_leaves_it_uncertain_and_sends_nothing_twice(
    postgres, shared_broker, smtp_sink, processes, organization, always_open_settings, fake_solapi
):
    kakao_set_up(organization)
    rows = _kakao_rows(organization, 4)
    fake_solapi.hold_after_accept_number = 2  # Solapi has it; the worker waits for the answer
    processes.env = _env(shared_broker, smtp_sink, fake_solapi)
    first = processes.worker("first", concurrency=1)
    _client(shared_broker).send_task("notifications.relay_organization", kwargs={"organization_id": organization.id})
    assert fake_solapi.holding.wait(DELIVERY_TIMEOUT), processes.tails()
    processes.kill(first, signal.SIGKILL)
    fake_solapi.release_hold()
    assert len(fake_solapi.messages) == 2

    processes.worker("second")
    assert _wait(lambda: _statuses(organization) == {"sent": 3, "uncertain": 1}, DELIVERY_TIMEOUT), (
        _statuses(organization),
        processes.tails(),
    )
    time.sleep(LEASE_SECONDS + 1)  # past the lease and more relays: still once each
    sent_to = [m["to"] for m in fake_solapi.messages]
    assert sorted(sent_to) == sorted(set(sent_to)) and len(sent_to) == len(rows)
    assert all(m["type"] == "ATA" for m in fake_solapi.messages)  # no SMS fallback on a guess either
    uncertain = Notification.objects.for_organization(organization).get(status="uncertain")
    assert uncertain.recipient == "founder1@startup.test"

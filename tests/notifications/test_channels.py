"""Channels (issue #19): KakaoTalk AlimTalk with SMS fallback (Solapi), Slack, Teams, choices, encryption.

Everything goes to local fakes (tests/notifications/fake_providers.py) on 127.0.0.1.
"""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from notifications import channels, crypto, services, solapi
from notifications.models import (
    AlimTalkTemplate,
    Channel,
    ChannelCredentials,
    ChannelProfile,
    DeliveryAttempt,
    Kind,
    Notification,
)
from notifications.planning import Planner
from notifications.selectors import planning_data
from tests.factories.notifications import NotificationFactory
from tests.factories.programs import MilestoneFactory
from tests.fixtures.notifications import kakao_set_up
from tests.notifications import fake_providers as fake

UTC = datetime.UTC


def relay(organization):
    return services.notification_relay(organization=organization)


def reload(row):
    return Notification.objects.for_organization(row.organization).get(pk=row.pk)


def attempts(row):
    return list(DeliveryAttempt.objects.for_organization(row.organization).filter(notification=row).order_by("id"))


def kakao_row(organization, **extra):
    extra.setdefault(
        "payload",
        {"to": "+821012345678", "template_id": "KA01TP-milestone_due_today-ko", "variables": {"#{name}": "김민지"}},
    )
    return NotificationFactory(
        organization=organization,
        channel=Channel.KAKAO,
        recipient="minji@startup.test",
        language="ko",
        subject_line="오늘 마감: 고객 인터뷰",
        body_text="김민지님, 오늘 마감: 고객 인터뷰",
        body_html="",
        **extra,
    )


# --- Encryption at rest ---------------------------------------------------------------------


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 (names are ours)
        return cursor.fetchone()[0]


def test_credentials_are_encrypted_in_the_database_and_plain_in_python(organization):
    saved = services.channel_credentials_update(
        organization=organization,
        solapi_api_key="NCSREALKEY123",
        solapi_api_secret="very-secret-value",
        kakao_pf_id=fake.PF_ID,
        sms_sender=fake.SENDER,
        slack_bot_token="xoxb-secret-token",
    )
    for column, secret in (
        ("solapi_api_key", "NCSREALKEY123"),
        ("solapi_api_secret", "very-secret-value"),
        ("slack_bot_token", "xoxb-secret-token"),
    ):
        stored = _raw("notifications_channelcredentials", column, saved.pk)
        assert stored.startswith(crypto.PREFIX) and secret not in stored
    again = ChannelCredentials.objects.for_organization(organization).get()
    assert (again.solapi_api_secret, again.slack_bot_token) == ("very-secret-value", "xoxb-secret-token")
    # An empty secret in a later save keeps the stored one (forms never show it back).
    services.channel_credentials_update(organization=organization, solapi_api_secret="", kakao_pf_id="KA01PFNEW")
    again = ChannelCredentials.objects.for_organization(organization).get()
    assert again.solapi_api_secret == "very-secret-value" and again.kakao_pf_id == "KA01PFNEW"


def test_a_teams_url_is_encrypted_and_keys_rotate(organization, settings):
    old_key, new_key = crypto.Fernet.generate_key().decode(), crypto.Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = [old_key]
    profile = services.channel_profile_update(
        organization=organization, email="Mentor@Hanbit.test", teams_webhook_url="https://teams.example.com/hook/abc"
    )
    stored = _raw("notifications_channelprofile", "teams_webhook_url", profile.pk)
    assert "teams.example.com" not in stored
    settings.FIELD_ENCRYPTION_KEY = [new_key, old_key]  # the new key first: it encrypts, both decrypt
    from django.core.management import call_command

    call_command("channel_credentials_rotate", verbosity=0)
    settings.FIELD_ENCRYPTION_KEY = [new_key]  # the old key is gone: rows were re-encrypted
    again = ChannelProfile.objects.for_organization(organization).get()
    assert again.email == "mentor@hanbit.test"
    assert again.teams_webhook_url == "https://teams.example.com/hook/abc"


# --- Phone numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("010-1234-5678", "+821012345678"), ("+82 10 1234 5678", "+821012345678"), ("12345", ""), ("", "")],
)
def test_phone_numbers_are_normalised_to_e164_with_korea_as_default(typed, expected):
    assert solapi.e164(typed) == expected


# --- Planning: each person's channels ------------------------------------------------------


def _plan_due_today(cohort, organization, when):
    MilestoneFactory(run=cohort["run"], name="Customer interviews", due_on=datetime.date(2026, 3, 5))
    data = planning_data(organization=organization, today=datetime.date(2026, 3, 5))
    return [p for p in Planner(data).due_now(when) if p.kind == Kind.MILESTONE_DUE_TODAY]


def test_a_participant_who_chose_kakaotalk_gets_it_with_the_approved_template(
    cohort, organization, always_open_settings
):
    kakao_set_up(organization)
    participant = cohort["korean"].participant
    participant.phone = "010-1234-5678"
    participant.save()
    services.channel_profile_update(
        organization=organization, email=participant.email, choices={Kind.MILESTONE_DUE_TODAY: [Channel.KAKAO]}
    )
    planned = _plan_due_today(cohort, organization, datetime.datetime(2026, 3, 5, 1, 0, tzinfo=UTC))
    channels_of = {(p.address, p.channel) for p in planned}
    assert ("minji@startup.test", Channel.KAKAO) in channels_of
    assert ("minji@startup.test", Channel.EMAIL) not in channels_of
    assert ("alex@startup.test", Channel.EMAIL) in channels_of  # no choice: the organization's default

    services.notifications_plan(organization=organization, now=datetime.datetime(2026, 3, 5, 1, 0, tzinfo=UTC))
    row = Notification.objects.for_organization(organization).get(channel=Channel.KAKAO)
    assert row.payload["to"] == "+821012345678"
    assert row.payload["template_id"] == "KA01TP-milestone_due_today-ko"
    assert row.payload["variables"]["#{name}"] == "김민지"
    assert row.body_text.startswith("김민지님, ")  # the approved text, filled in
    assert "#{" not in row.body_text


def test_without_a_phone_or_a_template_the_message_goes_by_email(cohort, organization, always_open_settings):
    kakao_set_up(organization, languages=("en",))  # no Korean template
    participant = cohort["korean"].participant
    participant.phone = "010-1234-5678"
    participant.save()
    services.notification_settings_update(organization=organization, participant_channels=[Channel.KAKAO])
    planned = _plan_due_today(cohort, organization, datetime.datetime(2026, 3, 5, 1, 0, tzinfo=UTC))
    by_person = {p.address: p.channel for p in planned}
    assert by_person["minji@startup.test"] == Channel.EMAIL  # Korean message, no Korean template
    assert by_person["alex@startup.test"] == Channel.EMAIL  # English template, but no phone


def test_settings_refuse_channels_an_audience_cannot_use(organization, always_open_settings):
    with pytest.raises(ValidationError) as raised:
        services.notification_settings_update(organization=organization, participant_channels=[Channel.SLACK])
    assert "participant_channels" in raised.value.message_dict
    with pytest.raises(ValidationError):
        services.notification_settings_update(organization=organization, staff_channels=[])


def test_a_template_with_an_unknown_variable_is_a_field_error(organization):
    with pytest.raises(ValidationError) as raised:
        services.alimtalk_template_save(
            organization=organization, kind=Kind.WELCOME, language="ko", template_id="KA01TP1", content="#{nmae}님"
        )
    assert "content" in raised.value.message_dict
    assert not AlimTalkTemplate.objects.for_organization(organization).exists()


# --- Sending KakaoTalk through the fake Solapi --------------------------------------------


def test_an_alimtalk_is_sent_signed_and_its_delivery_report_recorded(organization, always_open_settings, fake_solapi):
    kakao_set_up(organization)
    row = kakao_row(organization)
    assert relay(organization).sent == 1
    (message,) = fake_solapi.messages
    assert message["type"] == "ATA" and message["to"] == "01012345678" and message["from"] == fake.SENDER
    assert message["kakaoOptions"] == {
        "pfId": fake.PF_ID,
        "templateId": "KA01TP-milestone_due_today-ko",
        "variables": {"#{name}": "김민지"},
        "disableSms": True,
    }
    assert fake_solapi.bad_signatures == 0
    (attempt,) = attempts(row)
    assert (attempt.route, attempt.succeeded, attempt.delivery_status) == ("alimtalk", True, "pending")
    assert attempt.provider_message_id == message["messageId"]

    counts = services.delivery_reports_poll(organization=organization)
    assert counts["delivered"] == 1
    attempt.refresh_from_db()
    assert attempt.delivery_status == "delivered" and attempt.delivery_detail.startswith("4000")
    assert reload(row).status == Notification.Status.SENT


def test_a_refused_alimtalk_falls_back_to_sms_once_as_its_own_attempt(organization, always_open_settings, fake_solapi):
    kakao_set_up(organization)
    fake_solapi.refuse_alimtalk = True
    row = kakao_row(organization)
    relay(organization)
    assert fake_solapi.of_type("ATA") == [] and len(fake_solapi.refused) == 1
    (sms,) = fake_solapi.messages
    assert sms["text"] == row.body_text and "kakaoOptions" not in sms
    first, second = attempts(row)
    assert (first.route, first.succeeded) == ("alimtalk", False) and "ValidationError" in first.error
    assert (second.route, second.succeeded) == ("sms", True)
    row = reload(row)
    assert row.status == Notification.Status.SENT and row.payload["fallback"] == "sms"
    assert relay(organization).sent == 0 and len(fake_solapi.messages) == 1


def test_a_refused_sms_fallback_is_not_followed_by_another_fallback(organization, always_open_settings, fake_solapi):
    kakao_set_up(organization)
    fake_solapi.refuse_alimtalk = True
    row = kakao_row(organization, payload={"to": "+821012345678", "template_id": "x", "fallback": "sms"})
    fake_solapi.api_secret = "rotated-at-the-provider"  # every request now refused (401)
    relay(organization)
    assert [a.route for a in attempts(row)] == ["sms"]
    assert reload(row).status == Notification.Status.PENDING  # retried later as SMS, never as AlimTalk again


def test_an_alimtalk_reported_undelivered_falls_back_to_sms_once(organization, always_open_settings, fake_solapi):
    kakao_set_up(organization)
    fake_solapi.undeliverable_alimtalk = True
    row = kakao_row(organization)
    relay(organization)
    assert services.delivery_reports_poll(organization=organization)["fallbacks"] == 1
    assert reload(row).status == Notification.Status.PENDING
    relay(organization)
    assert [m.get("type") for m in fake_solapi.messages] == ["ATA", None]
    alimtalk, sms = attempts(row)
    assert alimtalk.delivery_status == "failed" and "3104" in alimtalk.delivery_detail
    assert sms.route == "sms"
    assert services.delivery_reports_poll(organization=organization)["delivered"] == 1
    assert services.delivery_reports_poll(organization=organization) == {
        "delivered": 0,
        "failed": 0,
        "pending": 0,
        "fallbacks": 0,
    }
    relay(organization)
    assert len(fake_solapi.messages) == 2
    assert reload(row).status == Notification.Status.SENT


def test_a_kakao_row_left_sending_by_a_lost_worker_is_uncertain_not_resent(
    organization, always_open_settings, fake_solapi, settings
):
    kakao_set_up(organization)
    row = kakao_row(organization)
    settings.NOTIFICATIONS_SENDING_LEASE_SECONDS = 1
    claim = services._claim_next(organization, always_open_settings, set(), services.RelayResult())
    assert claim.route == "alimtalk"
    # The provider accepts; the worker dies before recording (nothing recorded here).
    Notification.objects.for_organization(organization).filter(pk=row.pk).update(
        claimed_at=timezone.now() - datetime.timedelta(seconds=5)
    )
    result = relay(organization)
    assert result.uncertain == 1 and result.sent == 0
    assert reload(row).status == Notification.Status.UNCERTAIN
    assert fake_solapi.messages == []  # not sent by the recovery


def test_a_wrong_signature_is_refused_by_the_fake_like_solapi(organization, always_open_settings, fake_solapi):
    kakao_set_up(organization)
    services.channel_credentials_update(organization=organization, solapi_api_secret="not-the-secret")
    row = kakao_row(organization)
    relay(organization)
    assert fake_solapi.bad_signatures == 1 and fake_solapi.messages == []
    assert "SignatureDoesNotMatch" in reload(row).last_error


@override_settings(WEBHOOKS_ALLOW_LOOPBACK=False)
def test_the_provider_base_url_follows_the_outbound_loopback_rule(organization, always_open_settings, fake_solapi):
    kakao_set_up(organization)
    row = kakao_row(organization)
    with override_settings(WEBHOOKS_ALLOW_LOOPBACK=False):
        relay(organization)
    assert fake_solapi.messages == [] and "DestinationRefused" in reload(row).last_error


# --- Slack and Teams --------------------------------------------------------------------------


def test_slack_and_teams_messages_reach_the_persons_chat(organization, always_open_settings, fake_chat):
    services.channel_credentials_update(organization=organization, slack_bot_token="xoxb-test-token")
    services.channel_profile_update(
        organization=organization,
        email="mentor.park@hanbit.test",
        slack_member_id="U012AB3CD",
        teams_webhook_url=fake_chat.url + "/teams/hook",
    )
    for channel in (Channel.SLACK, Channel.TEAMS):
        NotificationFactory(
            organization=organization,
            channel=channel,
            recipient="mentor.park@hanbit.test",
            body_html="",
            payload={"text": "*Due today*\nCustomer interviews", "plain": "Customer interviews", "link": ""},
        )
    assert relay(organization).sent == 2
    slack, teams = sorted(fake_chat.received, key=lambda r: r["path"])
    assert slack["path"] == "/api/chat.postMessage" and slack["body"]["channel"] == "U012AB3CD"
    assert slack["headers"]["Authorization"] == "Bearer xoxb-test-token"
    assert slack["body"]["text"].startswith("*Due today*")
    card = teams["body"]["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["body"][1]["text"] == "Customer interviews"
    assert mail.outbox == []


def test_slack_ok_false_is_a_message_failure(organization, always_open_settings, fake_chat):
    services.channel_credentials_update(organization=organization, slack_bot_token="xoxb-revoked")
    services.channel_profile_update(organization=organization, email="pm@hanbit.test", slack_member_id="U012AB3CD")
    row = NotificationFactory(organization=organization, channel=Channel.SLACK, recipient="pm@hanbit.test")
    relay(organization)
    assert "invalid_auth" in reload(row).last_error
    assert not channels.is_channel_failure(channels.SlackRefused("invalid_auth"))


# --- The wrong organization ---------------------------------------------------------------


def test_another_organizations_channels_are_never_used_or_seen(
    organization, other_organization, always_open_settings, other_always_open_settings, fake_solapi
):
    kakao_set_up(organization)
    services.channel_profile_update(organization=organization, email="minji@startup.test", slack_member_id="U0AAAA1")
    assert ChannelCredentials.objects.for_organization(other_organization).count() == 0
    assert AlimTalkTemplate.objects.for_organization(other_organization).count() == 0
    assert ChannelProfile.objects.for_organization(other_organization).count() == 0
    # A KakaoTalk row of the other organization has no credentials there: nothing reaches Solapi.
    theirs = kakao_row(other_organization)
    relay(other_organization)
    assert fake_solapi.messages == [] and "not set up" in reload(theirs).last_error
    # Polling the other organization's reports never touches ours.
    ours = kakao_row(organization)
    relay(organization)
    assert services.delivery_reports_poll(organization=other_organization)["delivered"] == 0
    assert attempts(ours)[0].delivery_status == "pending"


def test_the_report_poll_task_runs_per_organization_by_id(organization, always_open_settings, fake_solapi):
    from notifications import tasks

    kakao_set_up(organization)
    kakao_row(organization)
    relay(organization)
    assert tasks.poll_delivery_reports_all() == 1
    assert DeliveryAttempt.objects.for_organization(organization).get().delivery_status == "delivered"
    assert tasks.poll_delivery_reports(organization_id=999999) == {}

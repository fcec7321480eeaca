"""Erasure by anonymisation: no table keeps the person's name, email or phone; reports add up the same.

The walk below introspects every model of every installed app (``apps.get_models()``),
so the tables other apps add later are checked without changing this test.
"""

from __future__ import annotations

import dataclasses
import decimal

import pytest
from django.apps import apps
from django.core import mail
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast

from assessments.models import Assessment
from assessments.outcomes import run_outcomes
from assessments.reports import cohort_report
from core.models import AuditEvent, Membership, TenantModel
from mentors.models import MentoringSession, SessionRating
from notifications.models import Notification
from privacy import services
from privacy.models import DataSubjectRequest
from programs.models import CheckIn, Enrollment, HelpRequest, HelpRequestReply
from tests.assessments.test_outcomes_report import build_run
from tests.factories.core import MembershipFactory, UserFactory
from tests.factories.integrations import WebhookDeliveryFactory
from tests.factories.mentors import MentorFactory, MentoringSessionFactory
from tests.factories.notifications import NotificationFactory
from tests.factories.programs import EnrollmentFactory, ParticipantFactory, RunFactory

NAME = "김민준"
EMAIL = "minjun.kim@founder.test"
PHONE = "010-5555-1234"
OLD_NAME = "A Founder"  # the name before a correction: the audit trail remembers it


def _text_columns(model):
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, (models.CharField, models.TextField, models.JSONField)) and not f.is_relation
    ]


def rows_holding(needles, *, except_organization=None) -> list[str]:
    """Every row of every model of every app whose text, char or JSON columns hold one of the needles."""
    found = []
    for model in apps.get_models():
        columns = _text_columns(model)
        if not columns:
            continue
        if issubclass(model, TenantModel):
            queryset = model.objects.dangerously_all_organizations()
        else:
            queryset = model._base_manager.all()
        if except_organization is not None and issubclass(model, TenantModel):
            queryset = queryset.exclude(organization=except_organization)
        for column in columns:
            alias = f"_walk_{column.attname}"
            query = Q()
            for needle in needles:
                query |= Q(**{f"{alias}__icontains": needle})
            hits = queryset.annotate(**{alias: Cast(column.attname, models.TextField())}).filter(query)
            for pk, value in hits.values_list("pk", alias)[:5]:
                found.append(f"{model._meta.label}.{column.name} #{pk}: {str(value)[:120]}")
    return found


def figures(value):
    """The numbers of a report (counts, levels, means), without names or rows' identities."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: figures(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): figures(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        # Lists of people are ordered by name, which the erasure changes: compare them as multisets.
        return sorted((figures(v) for v in value), key=repr)
    if isinstance(value, (bool, int, float, decimal.Decimal)) or value is None:
        return value
    return "·"  # text, model rows, dates: not figures


@pytest.fixture
def person_world(organization, framework, program_manager, other_organization):
    built = build_run(organization, framework, program_manager)
    participant = built.a.participant
    # A correction made through the admin/API path: saved, so the audit trail holds old and new values.
    participant.name, participant.email, participant.phone = NAME, EMAIL, PHONE
    participant.save()
    Enrollment.objects.filter(pk=built.a.pk).update(
        success_definition=f"{NAME}: ten paying customers", commitments="Call five customers a week"
    )
    CheckIn.objects.filter(enrollment=built.a).update(done="Interviewed two customers", blockers="none")
    help_request = HelpRequest.objects.filter(enrollment=built.a).first()
    HelpRequestReply.objects.create(
        organization=organization, help_request=help_request, mentor=built.m1, body=f"{NAME} 님, call me: {PHONE}"
    )
    session = MentoringSession.objects.filter(mentor=built.m1).first()
    MentoringSession.objects.filter(pk=session.pk).update(notes=f"Talked with {NAME} about pricing ({EMAIL})")
    SessionRating.objects.filter(participant=participant).update(comment="Great, thanks — 민준")
    Assessment.objects.filter(subject_enrollment=built.a, assessor_role="self").update(notes=f"I am {NAME}")
    NotificationFactory(
        organization=organization,
        recipient=EMAIL,
        recipient_name=NAME,
        subject_line=f"{NAME}님, 마일스톤이 오늘 마감입니다",
        body_text=f"안녕하세요 {NAME}님",
        payload={"to": NAME},
    )
    NotificationFactory(organization=organization, recipient="pm@hanbit.test", body_text=f"Silent this week: {NAME}")
    WebhookDeliveryFactory(
        subscription__organization=organization, body=f'{{"data":{{"name":"{NAME}","email":"{EMAIL}"}}}}'
    )
    # A namesake in another organization, with the same address and phone: untouched by the erasure.
    other_run = RunFactory(program__organization=other_organization)
    namesake = ParticipantFactory(organization=other_organization, name=NAME, email=EMAIL, phone=PHONE)
    other_enrollment = EnrollmentFactory(run=other_run, participant=namesake, success_definition=f"{NAME} wins")
    NotificationFactory(organization=other_organization, recipient=EMAIL, recipient_name=NAME, body_text=NAME)
    return built, participant, namesake, other_enrollment


def _erase(organization, participant, by):
    request = services.data_subject_request_open(
        organization=organization, kind=DataSubjectRequest.Kind.ERASURE, participant=participant
    )
    request = services.data_subject_request_carry_out(organization=organization, request=request, by=by)
    return services.data_subject_request_close(organization=organization, request=request, by=by)


def test_after_erasure_no_table_holds_the_name_email_or_phone(
    organization, other_organization, program_manager, person_world, django_capture_on_commit_callbacks
):
    built, participant, namesake, other_enrollment = person_world
    needles = [NAME, EMAIL, PHONE, "01055551234", OLD_NAME]
    assert rows_holding(needles, except_organization=other_organization), "the world must hold the person first"

    with django_capture_on_commit_callbacks(execute=True):
        request = _erase(organization, participant, program_manager)

    assert rows_holding(needles, except_organization=other_organization) == []
    # The closing notice went to the address given, which the request no longer keeps.
    assert [m.to for m in mail.outbox] == [[EMAIL]]
    request.refresh_from_db()
    assert request.status == DataSubjectRequest.Status.CLOSED and request.contact_email == ""
    assert request.notice_sent_at is not None and request.outcome["rows_changed"] > 0

    # The rows stay, with their counts and statuses; the identity is the placeholder.
    participant.refresh_from_db()
    assert (participant.name, participant.email, participant.phone) == (services.ERASED, "", "")
    assert CheckIn.objects.filter(enrollment=built.a).count() == 4
    assert Notification.objects.filter(organization=organization, recipient__startswith="erased-").count() == 1

    # One audit event says "erased", without the identity; the request's own events name no one.
    erased = AuditEvent.objects.filter(organization=organization, changes__personal_data__1="erased")
    assert erased.count() == 1 and erased.get().object_repr == f"{services.ERASED} participant #{participant.pk}"


def test_erasure_leaves_the_other_organizations_namesake_untouched(
    organization, other_organization, program_manager, person_world
):
    _built, participant, namesake, other_enrollment = person_world
    needles = [NAME, EMAIL, PHONE]

    def other_organizations_rows():
        return set(rows_holding(needles)) - set(rows_holding(needles, except_organization=other_organization))

    before = other_organizations_rows()
    _erase(organization, participant, program_manager)
    assert other_organizations_rows() == before and len(before) >= 4

    namesake.refresh_from_db()
    other_enrollment.refresh_from_db()
    assert (namesake.name, namesake.email, namesake.phone) == (NAME, EMAIL, PHONE)
    assert other_enrollment.success_definition == f"{NAME} wins"
    assert Notification.objects.filter(organization=other_organization, recipient=EMAIL, body_text=NAME).exists()


def test_reports_add_up_the_same_after_erasure(organization, program_manager, person_world):
    built, participant, _namesake, _other = person_world
    before = (
        figures(run_outcomes(organization=organization, run=built.run)),
        figures(cohort_report(organization=organization, run=built.run)),
    )
    _erase(organization, participant, program_manager)
    after = (
        figures(run_outcomes(organization=organization, run=built.run)),
        figures(cohort_report(organization=organization, run=built.run)),
    )
    assert after == before
    assert before[0]["row"]["enrollments"] == 4  # the constructed run, erased person included


def test_a_namesake_in_the_same_organization_keeps_their_name(organization, program_manager, person_world):
    _built, participant, _namesake, _other = person_world
    namesake = ParticipantFactory(organization=organization, name=NAME, email="another.minjun@startup.test")
    _erase(organization, participant, program_manager)
    namesake.refresh_from_db()
    assert (namesake.name, namesake.email) == (NAME, "another.minjun@startup.test")


def test_a_mentor_who_belongs_only_here_is_erased_with_the_account(organization, program_manager):
    user = UserFactory(name="박지훈", email="jihoon.park@mentor.test")
    MembershipFactory(organization=organization, user=user, role=Membership.Role.MENTOR)
    mentor = MentorFactory(organization=organization, user=user, bio="박지훈, ex-founder", motivation="give back")
    MentoringSessionFactory(mentor=mentor, notes="박지훈 met the team")
    request = services.data_subject_request_open(
        organization=organization, kind=DataSubjectRequest.Kind.ERASURE, user=user
    )
    services.data_subject_request_carry_out(organization=organization, request=request, by=program_manager)
    services.data_subject_request_close(organization=organization, request=request, by=program_manager)

    assert rows_holding(["박지훈", "jihoon.park@mentor.test"]) == []
    user.refresh_from_db()
    assert not user.is_active and not user.has_usable_password()
    assert not Membership.objects.filter(organization=organization, user=user).exists()
    assert MentoringSession.objects.filter(mentor=mentor).count() == 1  # session counts stay


def test_a_mentor_of_two_organizations_keeps_the_account(organization, other_organization, program_manager):
    user = UserFactory(name="최유나", email="yuna@mentor.test")
    MentorFactory(organization=organization, user=user)
    MentorFactory(organization=other_organization, user=user, bio="최유나 mentors here too")
    request = services.data_subject_request_open(organization=organization, kind="erasure", user=user)
    services.data_subject_request_carry_out(organization=organization, request=request, by=program_manager)
    services.data_subject_request_close(organization=organization, request=request, by=program_manager)
    user.refresh_from_db()
    assert (user.name, user.email, user.is_active) == ("최유나", "yuna@mentor.test", True)
    assert set(rows_holding(["최유나", "yuna@mentor.test"], except_organization=other_organization)) == {
        f"core.User.name #{user.pk}: 최유나",
        f"core.User.email #{user.pk}: yuna@mentor.test",
    }


def test_an_erased_person_cannot_be_erased_twice(organization, program_manager, person_world):
    _built, participant, _namesake, _other = person_world
    _erase(organization, participant, program_manager)
    participant.refresh_from_db()
    with pytest.raises(Exception, match="already been erased"):
        services.data_subject_request_open(organization=organization, kind="erasure", participant=participant)


def test_an_erased_account_loses_its_sign_in_links_and_second_step_devices(organization, program_manager):
    from allauth.account.models import EmailAddress
    from allauth.socialaccount.models import SocialAccount
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = UserFactory(name="한서윤", email="seoyun.han@mentor.test")
    MembershipFactory(organization=organization, user=user, role=Membership.Role.MENTOR)
    MentorFactory(organization=organization, user=user)
    SocialAccount.objects.create(
        user=user,
        provider="kakao",
        uid="4242",
        extra_data={"kakao_account": {"email": "seoyun.han@mentor.test", "profile": {"nickname": "한서윤"}}},
    )
    EmailAddress.objects.create(user=user, email="seoyun.han@mentor.test", verified=True, primary=True)
    TOTPDevice.objects.create(user=user, name="한서윤's phone")
    export = services.person_export(
        organization=organization, subject=services.subject_for(organization=organization, user=user)
    )
    account = {part["key"]: part["rows"] for part in export["parts"]}["account"]
    assert account[0]["sign_in_with"] == ["kakao"]

    request = services.data_subject_request_open(organization=organization, kind="erasure", user=user)
    services.data_subject_request_carry_out(organization=organization, request=request, by=program_manager)
    services.data_subject_request_close(organization=organization, request=request, by=program_manager)

    assert rows_holding(["한서윤", "seoyun.han@mentor.test"]) == []
    assert not SocialAccount.objects.filter(user=user).exists()
    assert not EmailAddress.objects.filter(user=user).exists()
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_office_hours_matching_and_channel_choices_are_exported_and_erased(organization, program_manager):
    from notifications.models import ChannelProfile
    from tests.factories.matching import PreferenceFactory
    from tests.factories.officehours import OfficeHourBookingFactory

    participant = ParticipantFactory(organization=organization, name="정하은", email="haeun@founder.test")
    enrollment = EnrollmentFactory(
        run=RunFactory(program__organization=organization),
        participant=participant,
        mentor_wish="Someone who sold to hospitals",
    )
    booking = OfficeHourBookingFactory(
        slot__mentor__organization=organization,
        enrollment=enrollment,
        topic="Our pricing for clinics",
        cancel_reason="I am ill",
    )
    PreferenceFactory(enrollment=enrollment, mentor=booking.mentor)
    ChannelProfile.objects.create(
        organization=organization, email="haeun@founder.test", choices={"milestone_due": ["kakao"]}
    )
    subject = services.subject_for(organization=organization, participant=participant)
    parts = {
        part["key"]: part["rows"]
        for part in services.person_export(organization=organization, subject=subject)["parts"]
    }
    assert parts["office_hour_bookings"][0]["topic"] == "Our pricing for clinics"
    assert parts["matching_choices"][0]["rank"] == 1
    assert parts["channel_choices"][0]["channels_per_kind"] == {"milestone_due": ["kakao"]}
    assert parts["enrollments"][0]["mentor_wish"] == "Someone who sold to hospitals"

    _erase(organization, participant, program_manager)

    booking.refresh_from_db()
    enrollment.refresh_from_db()
    assert (booking.topic, booking.cancel_reason, booking.status) == ("", "", "booked")  # the booking stays
    assert enrollment.mentor_wish == ""
    assert not ChannelProfile.objects.filter(organization=organization).exists()
    assert rows_holding(["정하은", "haeun@founder.test"]) == []

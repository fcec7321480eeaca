"""Data-subject requests: opening, the PIPA due date, access export, correction, closing notice, API and admin."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from privacy import services
from privacy.models import DataSubjectRequest
from programs.models import Participant
from tests.factories.notifications import NotificationFactory
from tests.factories.programs import (
    CheckInFactory,
    EnrollmentFactory,
    HelpRequestFactory,
    HelpRequestReplyFactory,
    ParticipantFactory,
)

NAME = "이하은"
EMAIL = "haeun.lee@founder.test"


@pytest.fixture
def person(organization, run):
    participant = ParticipantFactory(organization=organization, name=NAME, email=EMAIL, phone="010-2222-3333")
    enrollment = EnrollmentFactory(run=run, participant=participant, success_definition="첫 유료 고객 10명")
    CheckInFactory(enrollment=enrollment, done="고객 인터뷰 5건")
    help_request = HelpRequestFactory(enrollment=enrollment, act="가격 책정이 막혔습니다")
    HelpRequestReplyFactory(help_request=help_request, body="다음 주에 통화해요")
    NotificationFactory(organization=organization, recipient=EMAIL, subject_line="환영합니다")
    return participant


@pytest.fixture
def other_person(other_organization, other_run):
    # The same name and address in another organization: never part of this organization's export.
    participant = ParticipantFactory(organization=other_organization, name=NAME, email=EMAIL)
    enrollment = EnrollmentFactory(run=other_run, participant=participant)
    CheckInFactory(enrollment=enrollment, done="OTHER ORG CHECK-IN")
    NotificationFactory(organization=other_organization, recipient=EMAIL, subject_line="OTHER ORG WELCOME")
    return participant


def _open(organization, participant, kind="access", **extra):
    return services.data_subject_request_open(organization=organization, kind=kind, participant=participant, **extra)


# --- services -----------------------------------------------------------------------------------


def test_a_request_is_due_ten_days_after_it_arrived(organization, person):
    request = _open(organization, person, received_on=datetime.date(2026, 3, 2))
    assert request.due_on == datetime.date(2026, 3, 12)
    assert (request.person_label, request.contact_email, request.status) == (NAME, EMAIL, "open")


@override_settings(PRIVACY_REQUEST_DUE_DAYS=5)
def test_the_due_days_are_a_setting(organization, person):
    assert _open(organization, person, received_on=datetime.date(2026, 3, 2)).due_on == datetime.date(2026, 3, 7)


def test_the_audit_trail_of_a_request_names_no_one(organization, person):
    request = _open(organization, person)
    events = AuditEvent.objects.filter(organization=organization, object_id=str(request.pk), object_repr__contains="#")
    assert events.exists()
    assert all(
        NAME not in json.dumps(e.changes, ensure_ascii=False) and EMAIL not in json.dumps(e.changes) for e in events
    )


def test_the_access_export_holds_everything_about_the_person_and_nothing_of_another_organization(
    organization, person, other_person
):
    subject = services.subject_for(organization=organization, participant=person)
    export = services.person_export(organization=organization, subject=subject)
    parts = {part["key"]: part["rows"] for part in export["parts"]}
    assert parts["participant"][0]["name"] == NAME and parts["participant"][0]["phone"] == "010-2222-3333"
    assert parts["enrollments"][0]["success_definition"] == "첫 유료 고객 10명"
    assert [c["done"] for c in parts["check_ins"]] == ["고객 인터뷰 5건"]
    assert parts["help_requests"][0]["replies"][0]["body"] == "다음 주에 통화해요"
    assert [n["subject"] for n in parts["notifications"]] == ["환영합니다"]
    assert parts["audit_events"], "the changes recorded about the person"
    for key in ("milestone_progress", "assessments", "survey_responses", "mentoring_sessions", "account"):
        assert key in parts
    text = services.export_json(export)
    assert "OTHER ORG" not in text


def test_a_correction_goes_through_the_model_rules_and_is_recorded(organization, person, program_manager):
    request = _open(
        organization, person, kind="correction", corrections={"phone": "010-9999-0000", "company": "하은랩"}
    )
    services.data_subject_request_carry_out(organization=organization, request=request, by=program_manager)
    person.refresh_from_db()
    assert (person.phone, person.company) == ("010-9999-0000", "하은랩")
    request.refresh_from_db()
    assert request.status == "done" and request.outcome == {"corrected": ["company", "phone"]}
    assert AuditEvent.objects.filter(object_id=str(person.pk), changes__phone__1="010-9999-0000").exists()


@pytest.mark.parametrize(
    ("kind", "corrections", "field"),
    [
        ("correction", {}, "corrections"),
        ("correction", {"is_superuser": "1"}, "corrections"),
        ("access", {"name": "x"}, "corrections"),
        ("delete-everything", None, "kind"),
    ],
)
def test_bad_requests_are_field_errors(organization, person, kind, corrections, field):
    with pytest.raises(ValidationError) as error:
        _open(organization, person, kind=kind, corrections=corrections)
    assert field in error.value.message_dict


def test_a_correction_with_a_bad_email_changes_nothing(organization, person, program_manager):
    request = _open(organization, person, kind="correction", corrections={"email": "not an address"})
    with pytest.raises(ValidationError):
        services.data_subject_request_carry_out(organization=organization, request=request, by=program_manager)
    person.refresh_from_db()
    request.refresh_from_db()
    assert person.email == EMAIL and request.status == "open"


def test_another_organizations_participant_cannot_be_named(organization, other_person):
    with pytest.raises(ValidationError) as error:
        _open(organization, other_person)
    assert "participant" in error.value.message_dict


def test_closing_an_access_request_mails_the_copy_in_the_persons_language(
    organization, person, program_manager, django_capture_on_commit_callbacks
):
    Participant.objects.filter(pk=person.pk).update(language="en")
    person.refresh_from_db()
    request = _open(organization, person)
    services.data_subject_request_carry_out(organization=organization, request=request, by=program_manager)
    with django_capture_on_commit_callbacks(execute=True):
        services.data_subject_request_close(organization=organization, request=request, by=program_manager)
    (message,) = mail.outbox
    assert message.to == [EMAIL] and "your personal data request" in message.subject
    assert "Attached is a copy" in message.body
    names = [name for name, _content, _type in message.attachments]
    assert names == ["personal-data.json", "personal-data.html"]
    assert NAME in message.attachments[1][1] and "<html" in message.attachments[1][1]
    request.refresh_from_db()
    assert request.status == "closed" and request.notice_sent_at and request.handled_by == program_manager


def test_an_open_request_closes_only_as_a_refusal_with_its_reason(
    organization, person, program_manager, django_capture_on_commit_callbacks
):
    request = _open(organization, person, kind="erasure")
    with pytest.raises(ValidationError) as error:
        services.data_subject_request_close(organization=organization, request=request, by=program_manager)
    assert "refusal_reason" in error.value.message_dict
    with django_capture_on_commit_callbacks(execute=True):
        services.data_subject_request_close(
            organization=organization, request=request, by=program_manager, refusal_reason="법정 보존 기간 중입니다"
        )
    assert "법정 보존 기간 중입니다" in mail.outbox[0].body
    person.refresh_from_db()
    assert person.name == NAME  # nothing was erased


def test_overdue_requests_are_listed(organization, person):
    from privacy.selectors import data_subject_requests_overdue

    old = _open(organization, person, received_on=timezone.localdate() - datetime.timedelta(days=11))
    _open(organization, person, received_on=timezone.localdate())
    assert list(data_subject_requests_overdue(organization=organization)) == [old]


# --- API ----------------------------------------------------------------------------------------


def _api(organization):
    return f"/api/v1/orgs/{organization.slug}/privacy/requests/"


def test_the_api_opens_carries_out_and_closes_a_request(
    organization, person, program_manager, api_client_for, django_capture_on_commit_callbacks
):
    client = api_client_for(program_manager)
    response = client.post(_api(organization), {"kind": "access", "participant": person.pk})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "open" and body["due_on"] and body["person_label"] == NAME
    url = f"{_api(organization)}{body['id']}/"
    export = client.get(f"{url}export/")
    assert export.status_code == 200 and export.json()["parts"][0]["rows"][0]["name"] == NAME
    assert client.post(f"{url}carry-out/").json()["status"] == "done"
    with django_capture_on_commit_callbacks(execute=True):
        closed = client.post(f"{url}close/", {})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert len(mail.outbox) == 1


def test_the_api_answers_bad_input_with_field_errors(organization, person, program_manager, api_client_for):
    client = api_client_for(program_manager)
    response = client.post(_api(organization), {"kind": "correction", "participant": person.pk, "corrections": {}})
    assert response.status_code == 400 and "corrections" in json.dumps(response.json())
    response = client.post(_api(organization), {"kind": "access", "participant": person.pk, "user": program_manager.pk})
    assert response.status_code == 400
    assert not DataSubjectRequest.objects.exists()


def test_viewers_cannot_read_requests(organization, person, viewer, api_client_for):
    _open(organization, person)
    assert api_client_for(viewer).get(_api(organization)).status_code == 403


def test_another_organizations_request_answers_404(organization, other_organization, other_person, api_client_for):
    from tests.factories.core import MembershipFactory, UserFactory

    request = _open(other_organization, other_person)
    pm = UserFactory(email="pm.privacy@hanbit.test")
    MembershipFactory(organization=organization, user=pm)
    client = api_client_for(pm)
    for suffix in ("", "export/"):
        assert client.get(f"{_api(organization)}{request.pk}/{suffix}").status_code == 404
    for suffix in ("carry-out/", "close/"):
        assert client.post(f"{_api(organization)}{request.pk}/{suffix}").status_code == 404
    assert client.get(_api(organization)).json()["results"] == []
    response = client.post(_api(organization), {"kind": "access", "participant": other_person.pk})
    assert response.status_code == 400 and "participant" in json.dumps(response.json())
    request.refresh_from_db()
    assert request.status == "open"


def test_the_list_makes_a_constant_number_of_queries(
    organization, run, program_manager, api_client_for, django_assert_max_num_queries
):
    client = api_client_for(program_manager)
    for _ in range(2):
        _open(organization, EnrollmentFactory(run=run).participant)
    with django_assert_max_num_queries(12) as few:
        client.get(_api(organization))
    for _ in range(8):
        _open(organization, EnrollmentFactory(run=run).participant)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(_api(organization)).json()["results"]) == 10


# --- admin --------------------------------------------------------------------------------------


def test_the_admin_erases_after_a_preview(organization, person, program_manager, admin_client_for):
    client = admin_client_for(program_manager)
    response = client.post(
        reverse("admin:privacy_datasubjectrequest_add"),
        {
            "kind": "erasure",
            "participant": person.pk,
            "received_on": "2026-03-02",
            "contact_email": "",
            "corrections": "{}",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    request = DataSubjectRequest.objects.get()
    preview = client.get(reverse("admin:privacy_datasubjectrequest_erase", args=[request.pk]))
    assert preview.status_code == 200 and NAME in preview.content.decode()
    person.refresh_from_db()
    assert person.name == NAME  # the preview changes nothing
    client.post(reverse("admin:privacy_datasubjectrequest_erase", args=[request.pk]), {"confirm": "yes"})
    person.refresh_from_db()
    assert person.name == services.ERASED


def test_the_admin_export_page_and_json(organization, person, program_manager, admin_client_for, other_person):
    request = _open(organization, person)
    client = admin_client_for(program_manager)
    page = client.get(reverse("admin:privacy_datasubjectrequest_export", args=[request.pk]))
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    html = page.content.decode()
    assert NAME in html and "고객 인터뷰 5건" in html and "OTHER ORG" not in html
    data = client.get(reverse("admin:privacy_datasubjectrequest_export_json", args=[request.pk]))
    assert json.loads(data.content)["parts"][0]["rows"][0]["email"] == EMAIL


def test_the_admin_answers_404_for_another_organizations_request(
    organization, other_organization, other_person, program_manager, admin_client_for
):
    request = _open(other_organization, other_person, kind="erasure")
    client = admin_client_for(program_manager)
    for name in ("change", "export", "export_json", "erase", "close", "carry_out"):
        url = reverse(f"admin:privacy_datasubjectrequest_{name}", args=[request.pk])
        assert client.get(url).status_code == 404, name
        assert client.post(url, {"confirm": "yes"}).status_code == 404, name
    other_person.refresh_from_db()
    assert other_person.name == NAME

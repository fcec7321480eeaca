"""The program manager's admin: run page, plan, deadline move, dashboard, import, export."""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from programs.models import Enrollment, MentorAssignment, Milestone, Run
from tests.factories.programs import (
    CheckInFactory,
    EnrollmentFactory,
    HelpRequestFactory,
    MentorAssignmentFactory,
    MilestoneFactory,
    MilestoneProgressFactory,
    MilestoneTemplateFactory,
    ParticipantFactory,
    ProgramsMentorFactory,
    TeamFactory,
)

CHANGELISTS = [
    "program",
    "milestonetemplate",
    "run",
    "participant",
    "team",
    "enrollment",
    "mentorassignment",
    "milestone",
    "milestoneprogress",
    "checkin",
    "helprequest",
]


@pytest.fixture
def pm_client(program_manager, admin_client_for):
    return admin_client_for(program_manager)


def _populate(run, n):
    for _ in range(n):
        enrollment = EnrollmentFactory(run=run)
        milestone = MilestoneFactory(run=run)
        MilestoneProgressFactory(milestone=milestone, enrollment=enrollment)
        CheckInFactory(enrollment=enrollment)
        HelpRequestFactory(enrollment=enrollment)
        mentor = ProgramsMentorFactory(organization=run.organization)
        MentorAssignmentFactory(run=run, mentor=mentor, enrollment=enrollment)
        MilestoneTemplateFactory(program=run.program)
        TeamFactory(organization=run.organization)


def _count_queries(client, url):
    client.get(url)  # warm caches (content types, sessions) so both counts measure the same work
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.parametrize("model", CHANGELISTS)
def test_changelists_make_a_constant_number_of_queries(pm_client, run, model):
    url = reverse(f"admin:programs_{model}_changelist")
    _populate(run, 2)
    few = _count_queries(pm_client, url)
    _populate(run, 6)
    assert _count_queries(pm_client, url) == few


@pytest.mark.parametrize("page", ["change", "dashboard", "plan"])
def test_the_run_pages_make_a_constant_number_of_queries(pm_client, run, page):
    url = reverse(f"admin:programs_run_{page}", args=[run.pk])
    _populate(run, 2)
    few = _count_queries(pm_client, url)
    _populate(run, 8)
    assert _count_queries(pm_client, url) == few


def test_the_enrollment_page_makes_a_constant_number_of_queries(pm_client, run, enrollment):
    url = reverse("admin:programs_enrollment_change", args=[enrollment.pk])

    def add_rows(n):
        for _ in range(n):
            milestone = MilestoneFactory(run=run)
            MilestoneProgressFactory(milestone=milestone, enrollment=enrollment)
            CheckInFactory(enrollment=enrollment)
            MentorAssignmentFactory(run=run, enrollment=enrollment)

    add_rows(1)
    few = _count_queries(pm_client, url)
    add_rows(5)
    assert _count_queries(pm_client, url) == few


@pytest.mark.parametrize("model", CHANGELISTS)
def test_changelists_show_only_the_active_organization(pm_client, other_run, run, model):
    _populate(other_run, 1)
    _populate(run, 1)
    response = pm_client.get(reverse(f"admin:programs_{model}_changelist"))
    assert response.status_code == 200
    assert all(obj.organization_id == run.organization_id for obj in response.context["cl"].queryset)


@pytest.mark.parametrize("name", ["change", "dashboard", "plan", "move_deadline", "import", "rotate_calendar"])
def test_another_organizations_run_pages_answer_404(pm_client, other_run, name):
    assert pm_client.get(reverse(f"admin:programs_run_{name}", args=[other_run.pk])).status_code == 404


def test_another_organizations_export_answers_404(pm_client, other_run):
    assert pm_client.get(reverse("admin:programs_run_export", args=[other_run.pk, "csv"])).status_code == 404


def test_another_organizations_enrollment_answers_404(pm_client, other_enrollment):
    url = reverse("admin:programs_enrollment_change", args=[other_enrollment.pk])
    assert pm_client.get(url).status_code == 404


def test_a_viewer_sees_the_dashboard_but_cannot_plan(viewer, admin_client_for, run):
    client = admin_client_for(viewer)
    assert client.get(reverse("admin:programs_run_dashboard", args=[run.pk])).status_code == 200
    assert client.get(reverse("admin:programs_run_plan", args=[run.pk])).status_code == 404
    assert client.post(reverse("admin:programs_run_move_deadline", args=[run.pk]), {}).status_code == 404


def test_the_run_page_shows_the_d_n_timeline_and_tools(pm_client, run):
    MilestoneFactory(run=run, name="MVP 데모", days_before_deadline=20)
    body = pm_client.get(reverse("admin:programs_run_change", args=[run.pk])).content.decode()
    assert "D-20" in body and "MVP 데모" in body
    assert reverse("admin:programs_run_dashboard", args=[run.pk]) in body
    assert run.calendar_token in body


def test_the_final_deadline_cannot_be_changed_on_the_run_form(pm_client, run):
    body = pm_client.get(reverse("admin:programs_run_change", args=[run.pk])).content.decode()
    assert 'name="final_deadline"' not in body


def test_adding_a_run_with_bad_dates_gives_form_errors(pm_client, program, organization):
    response = pm_client.post(
        reverse("admin:programs_run_add"),
        {
            "program": program.pk,
            "name": "잘못된 기수",
            "status": "draft",
            "starts_on": "2026-05-01",
            "ends_on": "2026-04-01",
            "final_deadline": "2026-03-01",
            "checkin_cadence_days": 7,
            "skip_non_working_days": "on",
            **_empty_inlines(),
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "ends_on" in errors and "final_deadline" in errors
    assert not Run.objects.for_organization(organization).filter(name="잘못된 기수").exists()


def _empty_inlines():
    data = {}
    for prefix in ("enrollments", "milestones", "mentor_assignments"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    return data


def test_planning_from_the_admin_creates_dated_milestones(pm_client, run):
    MilestoneTemplateFactory(program=run.program, name="문제 정의", days_before_deadline=30)
    url = reverse("admin:programs_run_plan", args=[run.pk])
    preview = pm_client.get(url)
    assert "문제 정의" in preview.content.decode()
    assert not run.milestones.exists()
    assert pm_client.post(url, {}).status_code == 302
    assert run.milestones.get().name == "문제 정의"


def test_planning_before_the_start_needs_explicit_acceptance(pm_client, run):
    MilestoneTemplateFactory(program=run.program, name="너무 이른 마일스톤", days_before_deadline=200)
    url = reverse("admin:programs_run_plan", args=[run.pk])
    response = pm_client.post(url, {})
    assert response.status_code == 200
    assert "before the run does" in response.content.decode()
    assert not run.milestones.exists()
    assert pm_client.post(url, {"accept_before_start": "on"}).status_code == 302
    assert run.milestones.count() == 1


def test_moving_the_deadline_previews_then_confirms(pm_client, run):
    milestone = MilestoneFactory(run=run, days_before_deadline=10, due_on=datetime.date(2026, 6, 16))
    url = reverse("admin:programs_run_move_deadline", args=[run.pk])
    preview = pm_client.post(url, {"final_deadline": "2026-06-19"})
    body = preview.content.decode()
    assert preview.status_code == 200
    assert "2026-06-16" in body and "2026-06-09" in body  # old and new side by side
    run.refresh_from_db()
    milestone.refresh_from_db()
    assert run.final_deadline == datetime.date(2026, 6, 26)
    assert milestone.due_on == datetime.date(2026, 6, 16)
    confirmed = pm_client.post(url, {"final_deadline": "2026-06-19", "confirm": "yes"})
    assert confirmed.status_code == 302
    run.refresh_from_db()
    milestone.refresh_from_db()
    assert run.final_deadline == datetime.date(2026, 6, 19)
    assert milestone.due_on == datetime.date(2026, 6, 9)


def test_moving_the_deadline_before_the_start_is_a_form_error(pm_client, run):
    url = reverse("admin:programs_run_move_deadline", args=[run.pk])
    response = pm_client.post(url, {"final_deadline": "2025-01-01", "confirm": "yes"})
    assert response.status_code == 200
    assert "cannot be before the run starts" in response.content.decode()
    run.refresh_from_db()
    assert run.final_deadline == datetime.date(2026, 6, 26)


def test_the_dashboard_shows_overdue_items_help_requests_and_silent_participants(pm_client, run):
    quiet = EnrollmentFactory(run=run, participant__name="조용한 참가자")
    MilestoneFactory(run=run, name="지난 마일스톤", due_on=datetime.date(2026, 3, 10))
    HelpRequestFactory(enrollment=quiet, act="가격 책정이 막혔어요")
    body = pm_client.get(reverse("admin:programs_run_dashboard", args=[run.pk])).content.decode()
    assert "조용한 참가자" in body
    assert "지난 마일스톤" in body
    assert "가격 책정이 막혔어요" in body


def test_enrollment_page_shows_working_participant_links(pm_client, enrollment, client):
    body = pm_client.get(reverse("admin:programs_enrollment_change", args=[enrollment.pk])).content.decode()
    import re

    link = re.search(r'value="(http://testserver/p/[^"]+/)"', body).group(1)
    assert client.get(link.replace("http://testserver", "")).status_code == 200


def test_a_mentor_over_capacity_is_a_form_error_in_the_admin(pm_client, run, program_mentor, organization):
    program_mentor.capacity = 1
    program_mentor.save()
    MentorAssignmentFactory(run=run, mentor=program_mentor, enrollment=EnrollmentFactory(run=run))
    target = EnrollmentFactory(run=run)
    response = pm_client.post(
        reverse("admin:programs_mentorassignment_add"),
        {"run": run.pk, "mentor": program_mentor.pk, "enrollment": target.pk},
    )
    assert response.status_code == 200
    assert "capacity is 1" in response.content.decode()
    assert not MentorAssignment.objects.for_organization(organization).filter(enrollment=target).exists()


def test_a_duplicate_enrollment_is_a_form_error(pm_client, run, enrollment, organization):
    response = pm_client.post(
        reverse("admin:programs_enrollment_add"),
        {"run": run.pk, "participant": enrollment.participant.pk, "status": "active", **_enrollment_inlines()},
    )
    assert response.status_code == 200
    assert "already enrolled" in response.content.decode()
    assert Enrollment.objects.for_organization(organization).count() == 1


def _enrollment_inlines():
    data = {}
    for prefix in ("mentor_assignments", "milestone_progress", "check_ins"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    return data


def test_import_previews_then_imports_and_is_idempotent(pm_client, run, organization):
    csv_bytes = (
        "name,email,company,status\n김민준,minjun@startup.kr,민준랩,active\n이서연,seoyeon@startup.kr,,applied\n"
    ).encode("cp949")
    url = reverse("admin:programs_run_import", args=[run.pk])
    preview = pm_client.post(url, {"file": _upload("참가자.csv", csv_bytes)})
    assert preview.status_code == 200
    carried = preview.context["carried"]
    assert carried and not Enrollment.objects.for_organization(organization).exists()
    assert pm_client.post(url, {"confirm": "yes", **carried}).status_code == 302
    assert Enrollment.objects.for_organization(organization).filter(run=run).count() == 2
    assert pm_client.post(url, {"confirm": "yes", **carried}).status_code == 302
    assert Enrollment.objects.for_organization(organization).filter(run=run).count() == 2


def test_import_with_errors_imports_nothing(pm_client, run, organization):
    data = b"name,email\nGood,good@startup.test\nBad,not-an-email\n"
    response = pm_client.post(reverse("admin:programs_run_import", args=[run.pk]), {"file": _upload("p.csv", data)})
    body = response.content.decode()
    assert "not a valid email" in body
    assert response.context["carried"] is None
    tampered = pm_client.post(
        reverse("admin:programs_run_import", args=[run.pk]),
        {"confirm": "yes", "filename": "p.csv", "content": __import__("base64").b64encode(data).decode()},
    )
    assert tampered.status_code == 200
    assert not Enrollment.objects.for_organization(organization).exists()


def _upload(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_enrollments_with_progress(pm_client, run, enrollment, fmt):
    milestone = MilestoneFactory(run=run, name="인터뷰", days_before_deadline=20)
    MilestoneProgressFactory(milestone=milestone, enrollment=enrollment, status="done")
    response = pm_client.get(reverse("admin:programs_run_export", args=[run.pk, fmt]))
    assert response.status_code == 200
    if fmt == "csv":
        text = response.content.decode("utf-8-sig")
        assert "D-20 인터뷰" in text and enrollment.participant.email in text and ",done" in text
    else:
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][-1] == "D-20 인터뷰"
        assert rows[1][-1] == "done"


def test_rotating_the_calendar_secret(pm_client, run, client):
    old = run.calendar_token
    old_url = reverse("programs:run_calendar", args=[run.organization.slug, old])
    assert client.get(old_url).status_code == 200
    pm_client.post(reverse("admin:programs_run_rotate_calendar", args=[run.pk]))
    run.refresh_from_db()
    assert run.calendar_token != old
    assert client.get(old_url).status_code == 404


def test_a_pm_reply_in_the_admin_counts_as_the_first_response(pm_client, enrollment, program_manager):
    help_request = HelpRequestFactory(enrollment=enrollment)
    url = reverse("admin:programs_helprequest_change", args=[help_request.pk])
    page = pm_client.get(url)
    assert page.status_code == 200
    data = {
        "enrollment": enrollment.pk,
        "act": help_request.act,
        "impact": help_request.impact,
        "desired_outcome": help_request.desired_outcome,
        "status": "open",
        "replies-TOTAL_FORMS": 0,
        "replies-INITIAL_FORMS": 0,
        "replies-2-TOTAL_FORMS": 1,
        "replies-2-INITIAL_FORMS": 0,
        "replies-2-0-body": "내일 10시에 통화해요.",
    }
    response = pm_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    help_request.refresh_from_db()
    assert help_request.status == "answered"
    assert help_request.first_response_at is not None
    assert help_request.replies.get().author == program_manager


def test_milestones_of_another_organizations_run_cannot_be_added(pm_client, other_run, organization):
    response = pm_client.post(
        reverse("admin:programs_milestone_add"),
        {"run": other_run.pk, "name": "침입", "days_before_deadline": 5, "due_on": "2026-06-01"},
    )
    assert response.status_code == 200
    assert "run" in response.context["adminform"].form.errors
    assert not Milestone.objects.dangerously_all_organizations().filter(name="침입").exists()


def test_participant_email_is_validated(pm_client, organization):
    response = pm_client.post(
        reverse("admin:programs_participant_add"), {"name": "X", "email": "nope", "language": "ko"}
    )
    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors
    assert ParticipantFactory._meta.model.objects.for_organization(organization).count() == 0


def test_the_team_add_page_with_its_member_autocomplete_renders(program_manager, admin_client_for):
    response = admin_client_for(program_manager).get("/admin/programs/team/add/")
    assert response.status_code == 200
    assert b'name="memberships-0-participant"' in response.content or b"memberships-TOTAL_FORMS" in response.content


def test_the_run_page_does_not_grow_with_the_organizations_participants(pm_client, run, organization):
    from tests.factories.programs import EnrollmentFactory, ParticipantFactory

    EnrollmentFactory.create_batch(3, run=run)
    outsiders = ParticipantFactory.create_batch(25, organization=organization)
    body = pm_client.get(reverse("admin:programs_run_change", args=[run.pk])).content.decode()
    assert not any(p.name in body for p in outsiders)  # no select of every participant on every row
    assert f"{reverse('admin:programs_enrollment_add')}?run={run.pk}" in body
    assert f"{reverse('admin:programs_mentorassignment_add')}?run={run.pk}" in body


def test_the_add_enrollment_button_preselects_the_run(pm_client, run):
    response = pm_client.get(f"{reverse('admin:programs_enrollment_add')}?run={run.pk}")
    assert response.status_code == 200
    assert response.context["adminform"].form.initial["run"] == str(run.pk)


@pytest.mark.parametrize("changelist", ["admin:programs_checkin_changelist", "admin:programs_helprequest_changelist"])
def test_sidebar_filters_through_a_relation_path_list_only_the_organizations_runs(
    pm_client, run, other_run, changelist
):
    from tests.factories.programs import RunFactory

    second = RunFactory(program=run.program, name="2026 가을 기수")  # a filter shows from two choices on
    response = pm_client.get(reverse(changelist))
    assert response.status_code == 200
    choices = [
        choice["display"]
        for spec in response.context["cl"].filter_specs
        if getattr(spec, "field_path", "") == "enrollment__run"
        for choice in spec.choices(response.context["cl"])
    ]
    assert run.name in choices and second.name in choices
    assert other_run.name not in choices


def test_resolving_a_help_request_on_its_admin_page_goes_through_the_service(pm_client, enrollment):
    help_request = HelpRequestFactory(enrollment=enrollment)
    url = reverse("admin:programs_helprequest_change", args=[help_request.pk])
    data = {
        "enrollment": enrollment.pk,
        "act": help_request.act,
        "impact": help_request.impact,
        "desired_outcome": help_request.desired_outcome,
        "status": "resolved",
        "replies-TOTAL_FORMS": 0,
        "replies-INITIAL_FORMS": 0,
        "replies-2-TOTAL_FORMS": 0,
        "replies-2-INITIAL_FORMS": 0,
    }
    response = pm_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    help_request.refresh_from_db()
    assert help_request.status == "resolved" and help_request.resolved_at is not None


def test_unassigning_a_mentor_in_the_admin_removes_only_that_assignment(pm_client, run, program_mentor, other_run):
    mine = MentorAssignmentFactory(run=run, mentor=program_mentor, enrollment=EnrollmentFactory(run=run))
    kept = MentorAssignmentFactory(run=run, mentor=program_mentor, enrollment=EnrollmentFactory(run=run))
    foreign = MentorAssignmentFactory(
        run=other_run, mentor=ProgramsMentorFactory(organization=other_run.organization), enrollment=None
    )
    changelist = reverse("admin:programs_mentorassignment_changelist")
    response = pm_client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [mine.pk, foreign.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert set(MentorAssignment.objects.filter(pk__in=[mine.pk, kept.pk, foreign.pk]).values_list("pk", flat=True)) == {
        kept.pk,
        foreign.pk,  # another organization's id in the selection changes nothing there
    }
    delete = reverse("admin:programs_mentorassignment_delete", args=[kept.pk])
    assert pm_client.post(delete, {"post": "yes"}).status_code == 302
    assert not MentorAssignment.objects.filter(pk=kept.pk).exists()


def test_the_change_pages_keep_no_request_on_the_shared_admin_instances(pm_client, run, enrollment):
    """A ModelAdmin serves every thread: per-request state on it would show one PM's page to another."""
    from django.contrib import admin as django_admin

    for model, obj in ((Run, run), (Enrollment, enrollment)):
        url = reverse(f"admin:programs_{model._meta.model_name}_change", args=[obj.pk])
        page = pm_client.get(url, HTTP_HOST="localhost")
        assert page.status_code == 200
        assert "http://localhost/p/" in page.content.decode()  # links on the requesting host
        model_admin = django_admin.site._registry[model]
        assert not any(hasattr(model_admin, name) for name in ("_request", "request"))


@pytest.mark.parametrize("name", ["dashboard", "plan", "move_deadline", "import", "rotate_calendar"])
def test_the_run_pages_keep_no_request_on_the_shared_admin_instance(
    pm_client, other_program_manager, admin_client_for, run, other_run, name
):
    """Program managers of two organizations take turns on the one RunAdmin: each sees only its own run."""
    from django.contrib import admin as django_admin

    model_admin = django_admin.site._registry[Run]
    other_client = admin_client_for(other_program_manager)
    turns = [(pm_client, run, other_run), (other_client, other_run, run), (pm_client, run, other_run)]
    state = None
    for client, own, foreign in turns:
        page = client.get(reverse(f"admin:programs_run_{name}", args=[own.pk]))
        assert page.status_code == 200
        assert page.context["run"].pk == own.pk and page.context["original"].pk == own.pk
        assert own.name in page.context["title"] and foreign.name not in page.content.decode()
        assert page.context["view"].model_admin is model_admin  # the admin is the view's, per request
        assert client.get(reverse(f"admin:programs_run_{name}", args=[foreign.pk])).status_code == 404
        assert state is None or vars(model_admin) == state  # nothing of a request stays on the admin
        state = dict(vars(model_admin))
    for client, own, foreign in turns[:2]:
        assert client.get(reverse("admin:programs_run_export", args=[own.pk, "csv"])).status_code == 200
        assert client.get(reverse("admin:programs_run_export", args=[foreign.pk, "csv"])).status_code == 404

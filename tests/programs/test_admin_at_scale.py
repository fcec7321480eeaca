"""The program manager's admin at scale (issue #15): pages whose cost does not grow with the rows.

A capped count instead of Django's full ones, the run page's long inlines cut to their first rows
with a link to the rest, and query counts that stay the same below and above those limits.
"""

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.admin_base import CappedCountPaginator
from programs.admin.runs import EnrollmentInline, RunMentorAssignmentInline
from programs.models import Enrollment
from tests.core.test_admin_save_back import posted_form
from tests.factories.programs import EnrollmentFactory, MentorAssignmentFactory, ProgramsMentorFactory, RunFactory


@pytest.fixture
def pm_client(program_manager, admin_client_for):
    return admin_client_for(program_manager)


def _get(client, url):
    client.get(url)  # warm caches (content types, sessions) so that counts compare the same work
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return response, [q["sql"] for q in captured.captured_queries]


def _enroll(run, n, mentor=None):
    mentor = mentor or ProgramsMentorFactory(organization=run.organization, capacity=100)
    for _ in range(n):
        MentorAssignmentFactory(run=run, mentor=mentor, enrollment=EnrollmentFactory(run=run))
    return mentor


def test_the_run_page_lists_the_first_rows_and_links_to_all_of_them(pm_client, run, monkeypatch):
    monkeypatch.setattr(EnrollmentInline, "rows_shown", 3)
    monkeypatch.setattr(RunMentorAssignmentInline, "rows_shown", 3)
    _enroll(run, 5)
    response, _queries = _get(pm_client, reverse("admin:programs_run_change", args=[run.pk]))
    formsets = {f.formset.model: f.formset for f in response.context["inline_admin_formsets"]}
    first = list(Enrollment.objects.for_organization(run.organization).filter(run=run).order_by("id")[:3])
    assert [f.instance for f in formsets[Enrollment].forms] == first
    assert len(formsets[run.mentor_assignments.model].forms) == 3
    body = response.content.decode()
    assert body.count(f"{reverse('admin:programs_enrollment_changelist')}?run__id__exact={run.pk}") == 1
    assert body.count(f"{reverse('admin:programs_mentorassignment_changelist')}?run__id__exact={run.pk}") == 1


def test_the_run_page_makes_as_many_queries_below_and_above_the_rows_shown(pm_client, run, monkeypatch):
    monkeypatch.setattr(EnrollmentInline, "rows_shown", 4)
    monkeypatch.setattr(RunMentorAssignmentInline, "rows_shown", 4)
    url = reverse("admin:programs_run_change", args=[run.pk])
    mentor = _enroll(run, 2)
    _response, few = _get(pm_client, url)
    _enroll(run, 10, mentor)
    response, many = _get(pm_client, url)
    assert len(many) == len(few)
    assert "See all 12 in the list" in response.content.decode()


def test_a_run_page_with_more_rows_than_shown_saves_the_rows_it_shows(pm_client, run, monkeypatch):
    monkeypatch.setattr(EnrollmentInline, "rows_shown", 2)
    monkeypatch.setattr(RunMentorAssignmentInline, "rows_shown", 2)
    _enroll(run, 4)
    url = reverse("admin:programs_run_change", args=[run.pk])
    data = posted_form(pm_client.get(url).content.decode())
    assert data["enrollments-INITIAL_FORMS"] == "2"
    first = Enrollment.objects.for_organization(run.organization).filter(run=run).order_by("id").first()
    assert data["enrollments-0-id"] == str(first.pk)
    data["enrollments-0-status"] = Enrollment.Status.DROPPED
    data["_save"] = "Save"
    response = pm_client.post(url, data)
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.status == Enrollment.Status.DROPPED
    assert Enrollment.objects.for_organization(run.organization).filter(run=run).count() == 4  # none lost


@pytest.mark.parametrize("model", ["enrollment", "run"])
def test_changelists_count_at_most_the_cap_and_say_when_there_are_more(pm_client, run, model, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    monkeypatch.setattr(type(admin.site._registry[apps.get_model("programs", model)]), "list_per_page", 2)
    url = reverse(f"admin:programs_{model}_changelist")
    _enroll(run, 2)
    response, few = _get(pm_client, url)
    assert not response.context["cl"].paginator.capped
    assert "More than 3 rows match" not in response.content.decode()
    for _ in range(4):
        _enroll(run, 1)
        RunFactory(program=run.program)
    response, many = _get(pm_client, url)
    assert len(many) == len(few)
    assert response.context["cl"].paginator.capped
    assert response.context["cl"].result_count == 3
    assert "More than 3 rows match" in response.content.decode()
    counts = [q for q in many if q.startswith("SELECT COUNT(") and f'FROM "programs_{model}"' in q]
    assert counts and all("LIMIT 4" in q for q in counts), counts  # no count over every row


def test_the_run_list_counts_current_enrollments(pm_client, run):
    _enroll(run, 3)
    archived = Enrollment.objects.for_organization(run.organization).filter(run=run).order_by("id")[:1]
    Enrollment.objects.for_organization(run.organization).filter(pk__in=archived).update(archived_at=timezone.now())
    response, _queries = _get(pm_client, reverse("admin:programs_run_changelist"))
    listed = {r.pk: r.enrollment_total for r in response.context["cl"].result_list}
    assert listed[run.pk] == 2

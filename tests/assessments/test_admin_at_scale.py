"""The assessments list at scale (issue #15): the same queries for 3 rows as for 30, of every kind.

The page joins what every assessment has (window, run, level, enrolled subject) and fetches the
optional subject and assessor rows for the page only; the rows are read in the order of the index
``assessment_org_submitted`` and counted with a cap.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.admin import AssessmentAdmin
from assessments.models import Assessment
from assessments.services import assessment_submit
from core.admin_base import CappedCountPaginator
from tests.factories.programs import EnrollmentFactory, MentorAssignmentFactory, ProgramsMentorFactory
from tests.fixtures.database import page_plan

URL = "/admin/assessments/assessment/"
ADMIN = AssessmentAdmin


@pytest.fixture
def pm_admin(program_manager, admin_client_for):
    return admin_client_for(program_manager)


def _page(client):
    client.get(URL)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL)
    assert response.status_code == 200
    return response, [q["sql"] for q in captured.captured_queries]


def _assess(run, window, levels, program_manager, n):
    """Each enrollment assessed by itself, its mentor and a program manager."""
    mentor = ProgramsMentorFactory(organization=run.organization, capacity=100)
    for _ in range(n):
        enrollment = EnrollmentFactory(run=run)
        MentorAssignmentFactory(run=run, mentor=mentor, enrollment=enrollment)
        common = {"organization": run.organization, "window": window, "subject_enrollment": enrollment}
        assessment_submit(**common, assessor_role="self", assessor_enrollment=enrollment, level=levels[1])
        assessment_submit(**common, assessor_role="mentor", assessor_mentor=mentor, level=levels[2])
        assessment_submit(**common, assessor_role="pm", assessor_user=program_manager, level=levels[3])


def test_the_list_makes_the_same_queries_for_few_or_many_assessments_of_every_kind(
    pm_admin, run, open_window, levels, program_manager, monkeypatch
):
    monkeypatch.setattr(CappedCountPaginator, "cap", 5)
    monkeypatch.setattr(ADMIN, "list_per_page", 4)
    _assess(run, open_window, levels, program_manager, 1)
    _response, few = _page(pm_admin)
    _assess(run, open_window, levels, program_manager, 9)
    response, many = _page(pm_admin)
    assert len(many) == len(few)
    assert response.context["cl"].paginator.capped
    table = Assessment._meta.db_table
    assert all("LIMIT 6" in q for q in many if table in q and q.startswith("SELECT COUNT("))
    body = response.content.decode()
    assert str(program_manager) in body  # the assessors are named, fetched for the page


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans")
def test_the_page_is_read_in_index_order(pm_admin, run, open_window, levels, program_manager):
    _assess(run, open_window, levels, program_manager, 1)
    _response, queries = _page(pm_admin)
    plan = page_plan(queries, Assessment)
    assert "assessment_org_submitted" in plan, plan
    assert "Sort" not in plan, plan

"""The mentor's ranked choices of mentees in the portal (``/mentor/matching/runs/<id>/``).

Saving goes through ``matching.services.mentor_preferences_set``; only enrollments of the
run that still wait for a mentor can be chosen; another organization's run answers 404 and
another organization's (or another run's) enrollment is an invalid choice; nothing is saved
on any refusal; the page makes the same number of queries however many founders wait.
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from matching import selectors, services
from matching.models import Preference
from mentors.models import Mentor
from programs import services as program_services
from programs.models import Enrollment, Run
from tests.factories.programs import (
    EnrollmentFactory,
    ParticipantFactory,
    ProgramsMentorFactory,
    RunFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db

#: Queries of the ranking page (17 today): session, user, membership, the RLS context and
#: savepoints, the mentor, the run, the founders waiting, the mentor's choices, and the
#: header's organization switcher. None of them grows with the cohort.
BUDGET = 17


@pytest.fixture
def portal(admin_client_for, mentor_user, portal_mentor):
    """A browser session of the portal mentor."""
    return admin_client_for(mentor_user)


@pytest.fixture
def founders(organization, run):
    return [
        EnrollmentFactory(
            run=run,
            participant=ParticipantFactory(organization=organization, name=name),
            needs=needs,
            industry=industry,
        )
        for name, needs, industry in (
            ("김민지", ["pricing", "sales"], "b2b_saas"),
            ("이준호", ["legal"], "health"),
            ("박하은", [], ""),
        )
    ]


def _url(run):
    return reverse("matching_portal:mentee_preferences", args=[run.pk])


def _choices(organization, run, mentor):
    return selectors.mentor_choices(organization=organization, run=run, mentor=mentor)


def _mentor_preferences(organization):
    return Preference.objects.for_organization(organization).filter(side=Preference.Side.MENTOR)


# --- ranking ------------------------------------------------------------------------------------


def test_a_mentor_ranks_two_mentees_and_sees_them_saved(portal, organization, run, portal_mentor, founders):
    minji, junho, _ = founders
    page = portal.get(_url(run))
    assert page.status_code == 200
    body = page.content.decode()
    assert all(f'id="mentee-{f.pk}"' in body for f in founders)
    assert "김민지 · Pricing, Sales" in body  # the choice shows what the founder needs

    response = portal.post(_url(run), {"choice_1": str(junho.pk), "choice_2": str(minji.pk), "choice_3": ""})
    assert response.status_code == 302 and response["Location"] == _url(run)
    assert _choices(organization, run, portal_mentor) == [junho, minji]
    assert list(_mentor_preferences(organization).order_by("rank").values_list("rank", flat=True)) == [1, 2]

    saved = portal.get(_url(run))
    assert [m.message for m in saved.context["messages"]] == ["Your choices for this run are saved."]
    assert saved.context["form"]["choice_1"].value() == str(junho.pk)
    assert saved.context["form"]["choice_2"].value() == str(minji.pk)
    assert [row["enrollment"] for row in saved.context["chosen"]] == [junho, minji]


def test_saving_again_replaces_the_earlier_choices(portal, organization, run, portal_mentor, founders):
    minji, junho, haeun = founders
    services.mentor_preferences_set(
        organization=organization, run=run, mentor=portal_mentor, enrollments=[minji, junho]
    )
    page = portal.get(_url(run))
    assert page.context["form"]["choice_1"].value() == str(minji.pk)

    assert portal.post(_url(run), {"choice_1": str(haeun.pk)}).status_code == 302
    assert _choices(organization, run, portal_mentor) == [haeun]
    # Every choice left empty withdraws them all.
    assert portal.post(_url(run), {"choice_1": "", "choice_2": ""}).status_code == 302
    assert _choices(organization, run, portal_mentor) == []


def test_choosing_the_same_mentee_twice_is_a_form_error_and_keeps_the_earlier_choices(
    portal, organization, run, portal_mentor, founders
):
    minji, junho, _ = founders
    services.mentor_preferences_set(organization=organization, run=run, mentor=portal_mentor, enrollments=[junho])
    response = portal.post(_url(run), {"choice_1": str(minji.pk), "choice_2": str(minji.pk)})
    assert response.status_code == 200
    assert response.context["form"].errors["choice_2"] == ["You chose this mentee already."]
    assert _choices(organization, run, portal_mentor) == [junho]


@pytest.mark.parametrize("garbled", ["abc", "0", "-1", "999999999", "1 OR 1=1", "１", "9" * 40])
def test_a_garbled_id_is_a_form_error_not_a_server_error(portal, organization, run, portal_mentor, founders, garbled):
    response = portal.post(_url(run), {"choice_1": garbled, "choice_2": str(founders[0].pk)})
    assert response.status_code == 200 and response.context["form"].errors["choice_1"]
    assert not _mentor_preferences(organization).exists()


def test_a_garbled_or_unknown_run_is_404(portal, run, founders):
    assert portal.get("/mentor/matching/runs/abc/").status_code == 404
    assert portal.get(reverse("matching_portal:mentee_preferences", args=[run.pk + 10_000])).status_code == 404


def test_an_enrollment_of_another_organization_cannot_be_chosen(
    portal, organization, run, portal_mentor, founders, other_enrollment
):
    response = portal.post(_url(run), {"choice_1": str(other_enrollment.pk)})
    assert response.status_code == 200 and response.context["form"].errors["choice_1"]
    assert not _mentor_preferences(organization).exists()
    assert not _mentor_preferences(other_enrollment.organization).exists()


def test_an_enrollment_of_another_run_cannot_be_chosen(portal, organization, program, run, portal_mentor, founders):
    elsewhere = EnrollmentFactory(run=RunFactory(program=program, name="2026 가을 기수"))
    page = portal.get(_url(run))
    assert f'id="mentee-{elsewhere.pk}"' not in page.content.decode()
    response = portal.post(_url(run), {"choice_1": str(founders[0].pk), "choice_2": str(elsewhere.pk)})
    assert response.status_code == 200 and response.context["form"].errors["choice_2"]
    assert not _mentor_preferences(organization).exists()


def test_another_organizations_run_is_404_and_nothing_is_saved(portal, organization, founders, other_enrollment):
    other_run = other_enrollment.run
    assert portal.get(_url(other_run)).status_code == 404
    assert portal.post(_url(other_run), {"choice_1": str(other_enrollment.pk)}).status_code == 404
    assert not _mentor_preferences(other_enrollment.organization).exists()
    assert not _mentor_preferences(organization).exists()


def test_a_mentor_of_another_organization_cannot_rank_our_founders(
    admin_client_for, foreign_mentor, organization, run, founders
):
    client = admin_client_for(foreign_mentor.user)
    assert client.get(_url(run)).status_code == 404
    assert client.post(_url(run), {"choice_1": str(founders[0].pk)}).status_code == 404
    assert not _mentor_preferences(organization).exists()
    assert not _mentor_preferences(foreign_mentor.organization).exists()


def test_someone_who_is_not_a_mentor_here_gets_the_not_a_mentor_page(admin_client_for, program_manager, run, founders):
    client = admin_client_for(program_manager)
    assert client.get(_url(run)).status_code == 403
    assert client.post(_url(run), {"choice_1": str(founders[0].pk)}).status_code == 403
    assert not _mentor_preferences(run.organization).exists()


def test_anonymous_visitors_are_sent_to_the_portal_login(client, run, founders):
    response = client.get(_url(run))
    assert response.status_code == 302 and response["Location"].startswith(reverse("mentors:login"))


def test_a_finished_run_is_not_open_for_ranking(portal, organization, run, founders):
    Run.objects.for_organization(organization).filter(pk=run.pk).update(status=Run.Status.FINISHED)
    assert portal.get(_url(run)).status_code == 404
    assert portal.post(_url(run), {"choice_1": str(founders[0].pk)}).status_code == 404


def test_a_run_without_current_enrollments_is_not_open(portal, organization, program):
    empty = RunFactory(program=program, name="빈 기수")
    EnrollmentFactory(run=empty, status=Enrollment.Status.DROPPED)
    assert portal.get(_url(empty)).status_code == 404


def test_only_founders_still_waiting_for_a_mentor_can_be_chosen(
    portal, organization, run, portal_mentor, program_mentor, founders
):
    minji, junho, _ = founders
    services.mentor_preferences_set(organization=organization, run=run, mentor=portal_mentor, enrollments=[minji])
    program_services.mentor_assign(organization=organization, run=run, mentor=program_mentor, enrollment=minji)
    dropped = EnrollmentFactory(run=run, status=Enrollment.Status.DROPPED)
    page = portal.get(_url(run))
    body = page.content.decode()
    assert f'id="mentee-{minji.pk}"' not in body and f'id="mentee-{dropped.pk}"' not in body
    assert f'id="mentee-{junho.pk}"' in body
    # The earlier choice is still shown, marked, but no longer offered.
    assert page.context["chosen"] == [{"enrollment": minji, "open": False}]
    assert "has a mentor or left the run" in body
    assert page.context["form"]["choice_1"].value() is None
    response = portal.post(_url(run), {"choice_1": str(minji.pk)})
    assert response.status_code == 200 and response.context["form"].errors["choice_1"]
    assert portal.post(_url(run), {"choice_1": str(dropped.pk)}).status_code == 200
    assert _choices(organization, run, portal_mentor) == [minji]


def test_a_paused_mentor_may_rank_but_is_told_no_mentees_are_proposed(
    portal, organization, run, portal_mentor, founders
):
    Mentor.objects.for_organization(organization).filter(pk=portal_mentor.pk).update(status=Mentor.Status.PAUSED)
    page = portal.get(_url(run))
    assert page.status_code == 200 and 'id="not-taking-mentees"' in page.content.decode()


def test_a_mentors_choices_are_not_another_mentors(portal, organization, run, portal_mentor, program_mentor, founders):
    services.mentor_preferences_set(
        organization=organization, run=run, mentor=program_mentor, enrollments=[founders[0], founders[1]]
    )
    page = portal.get(_url(run))
    assert page.context["chosen"] == [] and page.context["form"]["choice_1"].value() is None
    assert portal.post(_url(run), {"choice_1": str(founders[2].pk)}).status_code == 302
    assert _choices(organization, run, program_mentor) == [founders[0], founders[1]]
    assert _choices(organization, run, portal_mentor) == [founders[2]]


# --- the matching profile links to it -------------------------------------------------------------


def test_the_matching_profile_lists_the_runs_open_for_matching(
    portal, organization, program, run, portal_mentor, founders, other_enrollment
):
    finished = RunFactory(program=program, name="2025 가을 기수", status=Run.Status.FINISHED)
    EnrollmentFactory(run=finished)
    services.mentor_preferences_set(organization=organization, run=run, mentor=portal_mentor, enrollments=founders[:2])
    page = portal.get(reverse("matching_portal:matching_profile"))
    body = page.content.decode()
    assert [row["run"] for row in page.context["runs"]] == [run]
    assert page.context["runs"][0]["chosen"] == 2
    assert f'href="{_url(run)}"' in body
    assert _url(finished) not in body and _url(other_enrollment.run) not in body


# --- query count ----------------------------------------------------------------------------------


def _queries_for(client, run) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(_url(run))
    assert response.status_code == 200
    return len(captured)


def test_the_page_makes_the_same_number_of_queries_however_many_founders_wait(
    portal, organization, run, portal_mentor, founders
):
    services.mentor_preferences_set(organization=organization, run=run, mentor=portal_mentor, enrollments=founders[:2])
    few = _queries_for(portal, run)
    for _ in range(12):
        EnrollmentFactory(run=run, needs=["sales"], industry="fintech", stage="mvp")
    for _ in range(3):  # teams too: their label reads the team
        EnrollmentFactory(run=run, participant=None, team=TeamFactory(organization=organization))
    many = _queries_for(portal, run)
    assert few == many, (few, many)


def test_saving_makes_the_same_number_of_queries_however_many_founders_wait(
    portal, organization, run, portal_mentor, founders
):
    choose = {"choice_1": str(founders[0].pk), "choice_2": str(founders[1].pk), "choice_3": str(founders[2].pk)}
    # Both measured saves replace three earlier choices: the same work, a different cohort.
    services.mentor_preferences_set(organization=organization, run=run, mentor=portal_mentor, enrollments=founders)
    with CaptureQueriesContext(connection) as few:
        assert portal.post(_url(run), choose).status_code == 302
    for _ in range(15):
        EnrollmentFactory(run=run)
    with CaptureQueriesContext(connection) as many:
        assert portal.post(_url(run), choose).status_code == 302
    assert len(few) == len(many), (len(few), len(many))
    assert _choices(organization, run, portal_mentor) == founders


def test_the_page_stays_within_its_query_budget(
    portal, organization, run, portal_mentor, founders, django_assert_max_num_queries
):
    services.mentor_preferences_set(organization=organization, run=run, mentor=portal_mentor, enrollments=founders)
    for _ in range(20):
        EnrollmentFactory(run=run)
    with django_assert_max_num_queries(BUDGET):
        response = portal.get(_url(run))
    assert response.content.decode().count('class="card mentee"') == 23


def test_another_organizations_mentor_is_never_ranked_by_the_service(organization, run, founders, other_organization):
    stranger = ProgramsMentorFactory(organization=other_organization)
    with pytest.raises(ValidationError):
        services.mentor_preferences_set(organization=organization, run=run, mentor=stranger, enrollments=founders[:1])
    assert not _mentor_preferences(organization).exists()

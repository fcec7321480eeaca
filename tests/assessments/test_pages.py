"""Participants' signed-link pages and the mentor portal pages."""

import datetime
import time

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from assessments import links
from assessments.models import Assessment, SurveyResponse
from assessments.services import assessment_submit
from core.links import LinkExpired
from tests.factories.assessments import AssessmentWindowFactory, ValueSurveyFactory
from tests.factories.programs import EnrollmentFactory, MentorAssignmentFactory, ProgramsMentorFactory


def level_post(levels, number, **extra):
    level = levels[number]
    return {"level": str(level.pk), "observed": [str(i.pk) for i in level.indicators.all()[:2]], **extra}


# --- Signed links --------------------------------------------------------------------


def test_links_are_absolute_paths_that_name_their_purpose(open_window, enrollment, survey, assessing_mentor):
    self_link = links.self_assessment_link(window=open_window, enrollment=enrollment)
    survey_link = links.survey_link(survey=survey, enrollment=enrollment)
    mentor_link = links.survey_link(survey=survey, mentor=assessing_mentor)
    assert self_link.startswith("/a/self/") and survey_link.startswith("/a/survey/")
    token = self_link.split("/")[3]
    assert links.read_self_assessment_token(token) == links.SelfAssessmentToken(
        organization_id=open_window.organization_id, window_id=open_window.pk, enrollment_id=enrollment.pk
    )
    assert links.read_survey_token(mentor_link.split("/")[3]).mentor_id == assessing_mentor.pk


def test_a_token_for_one_purpose_does_not_open_another(open_window, enrollment):
    token = links.self_assessment_token(window=open_window, enrollment=enrollment)
    with pytest.raises(links.LinkInvalid):
        links.read_survey_token(token)
    with pytest.raises(links.LinkInvalid):
        links.read_self_assessment_token(token[:-2] + "xx")


def test_an_expired_link_is_refused(open_window, enrollment, survey):
    token = links.self_assessment_token(window=open_window, enrollment=enrollment)
    later = time.time() + links.LINK_MAX_AGE.total_seconds()
    assert links.read_self_assessment_token(token, now=later - 60).window_id == open_window.pk
    with pytest.raises(LinkExpired):
        links.read_self_assessment_token(token, now=later + 60)
    with pytest.raises(links.LinkInvalid):  # the one way to refuse: an expired link is an invalid one
        links.read_survey_token(links.survey_token(survey=survey, enrollment=enrollment), now=later + 60)


def test_a_survey_link_names_one_respondent(survey):
    with pytest.raises(ValueError):
        links.survey_link(survey=survey)
    forged = signing.dumps({"o": survey.organization_id, "s": survey.pk}, salt=links.SURVEY_SALT)
    with pytest.raises(links.LinkInvalid):
        links.read_survey_token(forged)


# --- The self-assessment page ---------------------------------------------------------


def test_a_participant_assesses_themselves_through_the_link(open_window, enrollment, levels):
    client = Client()
    url = links.self_assessment_link(window=open_window, enrollment=enrollment)
    page = client.get(url + "?lang=en")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Self-assessment" in body and "LV.3 · Collaboration" in body and 'name="viewport"' in body

    response = client.post(url, {**level_post(levels, 2), "notes": "Interviewed 8 owners", "lang": "en"})
    assert response.status_code == 302 and "saved=1" in response["Location"]
    assessment = Assessment.objects.for_organization(open_window.organization).get()
    assert assessment.assessor_role == "self" and assessment.level == levels[2]
    assert assessment.observations.count() == 2

    # Answering again changes the same assessment and keeps the first version.
    client.post(url, {**level_post(levels, 3), "lang": "en"})
    assessment.refresh_from_db()
    assert assessment.level == levels[3] and assessment.versions.count() == 2


def test_the_page_speaks_the_participants_language(open_window, run, levels):
    korean = EnrollmentFactory(run=run, participant__language="ko")
    english = EnrollmentFactory(run=run, participant__language="en")
    assert (
        "자기 평가" in Client().get(links.self_assessment_link(window=open_window, enrollment=korean)).content.decode()
    )
    body = Client().get(links.self_assessment_link(window=open_window, enrollment=english)).content.decode()
    assert "Self-assessment" in body and "Collaboration" in body
    override = Client().get(links.self_assessment_link(window=open_window, enrollment=english) + "?lang=ko")
    assert "고객과 협업" in override.content.decode()


def test_a_bad_answer_shows_errors_and_saves_nothing(open_window, enrollment, levels, other_framework):
    url = links.self_assessment_link(window=open_window, enrollment=enrollment)
    foreign = other_framework.levels.get(number=2)
    response = Client().post(url + "?lang=en", {"level": str(foreign.pk), "links": "not a link", "lang": "en"})
    assert response.status_code == 200
    assert "Nothing was saved" in response.content.decode()
    assert not Assessment.objects.for_organization(open_window.organization).exists()


def test_a_closed_window_shows_the_answer_but_takes_no_changes(closed_window, enrollment, levels):
    url = links.self_assessment_link(window=closed_window, enrollment=enrollment)
    response = Client().post(url + "?lang=en", {**level_post(levels, 2), "lang": "en"})
    assert response.status_code == 200
    assert "closed" in response.content.decode()
    assert not Assessment.objects.for_organization(closed_window.organization).exists()


def test_a_tampered_link_answers_404(open_window, enrollment):
    url = links.self_assessment_link(window=open_window, enrollment=enrollment)
    response = Client().get(url[:-3] + "zz/?lang=en")
    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()


def test_a_link_mixing_organizations_answers_404(open_window, other_enrollment, other_window, enrollment):
    # Signed correctly, but the enrollment is not in the window's organization and run.
    token = signing.dumps(
        {"o": open_window.organization_id, "w": open_window.pk, "e": other_enrollment.pk},
        salt=links.SELF_ASSESSMENT_SALT,
    )
    assert Client().get(f"/a/self/{token}/").status_code == 404
    token = signing.dumps(
        {"o": open_window.organization_id, "w": other_window.pk, "e": enrollment.pk}, salt=links.SELF_ASSESSMENT_SALT
    )
    assert Client().get(f"/a/self/{token}/").status_code == 404


# --- The survey page ------------------------------------------------------------------


def survey_post(survey, importance="4", satisfaction="3", **extra):
    data = {"lang": "en", **extra}
    for statement in survey.statements.all():
        data[f"importance_{statement.pk}"] = importance
        data[f"satisfaction_{statement.pk}"] = satisfaction
    return data


def test_a_participant_answers_the_survey_through_the_link(survey, enrollment):
    client = Client()
    url = links.survey_link(survey=survey, enrollment=enrollment)
    body = client.get(url + "?lang=en").content.decode()
    assert "What should we stop?" in body and "Customer interviews" in body
    response = client.post(url, survey_post(survey, own_values="Honest peers", stop="Long lectures"))
    assert response.status_code == 302
    answer = SurveyResponse.objects.for_organization(survey.organization).get()
    assert answer.enrollment == enrollment and answer.stop == "Long lectures"
    assert answer.ratings.count() == 3


def test_out_of_range_answers_on_the_page_save_nothing(survey, enrollment):
    url = links.survey_link(survey=survey, enrollment=enrollment)
    response = Client().post(url, survey_post(survey, importance="9"))
    assert response.status_code == 200 and "Nothing was saved" in response.content.decode()
    assert not SurveyResponse.objects.for_organization(survey.organization).exists()


def test_a_closed_survey_takes_no_answers(run, enrollment):
    now = timezone.now()
    survey = ValueSurveyFactory(
        program=run.program, opens_at=now - datetime.timedelta(days=9), closes_at=now - datetime.timedelta(days=1)
    )
    url = links.survey_link(survey=survey, enrollment=enrollment)
    response = Client().post(url, survey_post(survey))
    assert "Answers are no longer accepted" in response.content.decode()
    assert not SurveyResponse.objects.for_organization(survey.organization).exists()


def test_a_mentor_answers_through_a_survey_link(survey, assessing_mentor):
    url = links.survey_link(survey=survey, mentor=assessing_mentor)
    Client().post(url, survey_post(survey, improve="Share check-ins before sessions"))
    answer = SurveyResponse.objects.for_organization(survey.organization).get()
    assert answer.respondent_kind == "mentor" and answer.mentor == assessing_mentor


# --- Mentor portal ----------------------------------------------------------------------


@pytest.fixture
def mentor_client(assessing_mentor):
    client = Client()
    client.force_login(assessing_mentor.user)
    return client


def test_mentor_pages_need_a_login(open_window):
    response = Client().get("/a/mentor/assessments/")
    assert response.status_code == 302 and "/mentor/login/" in response["Location"]


def test_a_member_who_is_not_a_mentor_is_refused(program_manager, admin_client_for):
    assert admin_client_for(program_manager).get("/a/mentor/assessments/").status_code == 403


def test_a_mentor_sees_assigned_mentees_in_open_windows(mentor_client, open_window, enrollment, run):
    EnrollmentFactory(run=run, participant__name="Not my mentee")
    page = mentor_client.get("/a/mentor/assessments/")
    body = page.content.decode()
    assert page.status_code == 200
    assert str(enrollment) in body and "Not my mentee" not in body
    assert f"/a/mentor/assessments/{open_window.pk}/{enrollment.pk}/" in body


def test_the_portal_page_uses_the_mentor_portal_layout(mentor_client, open_window):
    body = mentor_client.get("/a/mentor/assessments/").content.decode()
    assert "portal-nav" in body or "<main>" in body


def test_a_mentor_assesses_an_assigned_mentee(mentor_client, open_window, enrollment, levels, assessing_mentor):
    url = f"/a/mentor/assessments/{open_window.pk}/{enrollment.pk}/"
    assert mentor_client.get(url).status_code == 200
    response = mentor_client.post(url, {**level_post(levels, 3), "notes": "Runs weekly customer calls"})
    assert response.status_code == 302
    assessment = Assessment.objects.for_organization(open_window.organization).get()
    assert assessment.assessor_role == "mentor" and assessment.assessor_mentor == assessing_mentor
    assert assessment.level == levels[3]


def test_a_mentor_cannot_open_an_unassigned_enrollment(mentor_client, open_window, run):
    stranger = EnrollmentFactory(run=run)
    assert mentor_client.get(f"/a/mentor/assessments/{open_window.pk}/{stranger.pk}/").status_code == 404


def test_a_mentor_cannot_open_another_organizations_window(mentor_client, other_window, other_enrollment, enrollment):
    assert mentor_client.get(f"/a/mentor/assessments/{other_window.pk}/{enrollment.pk}/").status_code == 404
    assert mentor_client.get(f"/a/mentor/assessments/{other_window.pk}/{other_enrollment.pk}/").status_code == 404


def test_a_mentor_of_another_organization_sees_nothing_here(open_window, enrollment, other_organization):
    outsider = ProgramsMentorFactory(organization=other_organization)
    client = Client()
    client.force_login(outsider.user)
    assert client.get(f"/a/mentor/assessments/{open_window.pk}/{enrollment.pk}/").status_code == 404
    assert str(enrollment) not in client.get("/a/mentor/assessments/").content.decode()


def test_a_closed_window_is_not_offered_and_refuses_changes(mentor_client, closed_window, enrollment, levels):
    assert f"/{closed_window.pk}/" not in mentor_client.get("/a/mentor/assessments/").content.decode()
    response = mentor_client.post(f"/a/mentor/assessments/{closed_window.pk}/{enrollment.pk}/", level_post(levels, 3))
    assert response.status_code == 200
    assert not Assessment.objects.for_organization(closed_window.organization).exists()


def test_the_mentor_surveys_page_lists_open_surveys_for_the_mentors_programs(
    mentor_client, survey, assessing_mentor, other_survey, organization
):
    elsewhere = ValueSurveyFactory(program__organization=organization, organization=organization, title="Elsewhere")
    body = mentor_client.get("/a/mentor/surveys/").content.decode()
    assert survey.title in body
    import re

    tokens = re.findall(r'href="/a/survey/([^/"]+)/"', body)
    assert [links.read_survey_token(t).mentor_id for t in tokens] == [assessing_mentor.pk]
    assert other_survey.title not in body and elsewhere.title not in body


def test_the_assessments_list_makes_a_constant_number_of_queries(
    mentor_client, open_window, run, assessing_mentor, levels, django_assert_max_num_queries
):
    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert mentor_client.get("/a/mentor/assessments/").status_code == 200
        return len(queries)

    few = count()
    for _ in range(5):
        mentee = EnrollmentFactory(run=run)
        MentorAssignmentFactory(run=run, mentor=assessing_mentor, enrollment=mentee)
        assessment_submit(
            organization=run.organization,
            window=open_window,
            subject_enrollment=mentee,
            assessor_role="mentor",
            assessor_mentor=assessing_mentor,
            level=levels[1],
        )
    AssessmentWindowFactory(run=run, framework=open_window.framework, kind="post")
    assert count() == few

import pytest

from assessments import demo as assessments_demo
from assessments.models import Assessment, AssessmentWindow, Framework, SurveyResponse, ValueSurvey
from assessments.reports import cohort_report, survey_report
from core import demo as core_demo
from tests.factories.programs import EnrollmentFactory, MentorAssignmentFactory, ProgramsMentorFactory, RunFactory


def counts(organization):
    return [
        model.objects.for_organization(organization).count()
        for model in (Framework, AssessmentWindow, Assessment, ValueSurvey, SurveyResponse)
    ]


@pytest.mark.django_db
def test_without_runs_the_demo_creates_only_frameworks():
    messages = []
    ctx = core_demo.seed(messages.append)
    assessments_demo.seed(ctx, messages.append)
    assert counts(ctx.korean_org) == [1, 0, 0, 0, 0]
    assert any("no run with enrollments" in m for m in messages)


@pytest.mark.django_db
def test_the_demo_builds_a_closed_pre_window_an_open_post_window_and_a_survey_once():
    ctx = core_demo.seed(lambda message: None)
    organization = ctx.korean_org
    run = RunFactory(program__organization=organization, organization=organization, name="2026 봄 기수")
    mentor = ProgramsMentorFactory(organization=organization)
    for _ in range(6):
        MentorAssignmentFactory(run=run, mentor=mentor, enrollment=EnrollmentFactory(run=run))

    assessments_demo.seed(ctx, lambda message: None)
    first = counts(organization)
    assessments_demo.seed(ctx, lambda message: None)
    assert counts(organization) == first

    pre = AssessmentWindow.objects.for_organization(organization).get(kind="pre")
    post = AssessmentWindow.objects.for_organization(organization).get(kind="post")
    assert pre.has_closed() and post.is_open()
    report = cohort_report(organization=organization, run=run)
    assert report.growth.subjects >= 4 and report.growth.mean_delta > 0.5
    assert report.growth.moved_up >= 3
    survey = ValueSurvey.objects.for_organization(organization).get()
    assert survey.title == "우리가 주는 가치, 여러분이 원하는 가치"
    gaps = survey_report(organization=organization, survey=survey)
    assert max(abs(r.gap) for r in gaps.statements) >= 1.5
    assert gaps.respondents["participant"] == 6 and gaps.respondents["mentor"] == 1

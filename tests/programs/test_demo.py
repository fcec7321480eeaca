"""The demo cohort: realistic, in each organization's language, and idempotent."""

from core import demo as core_demo
from programs import demo, selectors
from programs.models import CheckIn, Enrollment, HelpRequest, Milestone, Participant, Run


def _counts(organization):
    return [
        model.objects.for_organization(organization).count()
        for model in (Run, Enrollment, Participant, Milestone, CheckIn, HelpRequest)
    ]


def test_the_demo_is_a_running_cohort_and_seeding_twice_adds_nothing(db):
    ctx = core_demo.seed(lambda _message: None)
    demo.seed(ctx, lambda _message: None)
    korean, english = ctx.korean_org, ctx.english_org
    before = (_counts(korean), _counts(english))
    demo.seed(ctx, lambda _message: None)
    assert (_counts(korean), _counts(english)) == before

    run = Run.objects.for_organization(korean).get()
    assert run.name == "12기" and run.status == "active"
    assert Enrollment.objects.for_organization(korean).filter(run=run).count() == 20
    assert Participant.objects.for_organization(korean).first().language == "ko"
    assert Participant.objects.for_organization(english).first().language == "en"
    dashboard = selectors.run_dashboard(organization=korean, run=run)
    assert dashboard.overdue, "some milestones are overdue"
    assert dashboard.silent, "some participants went quiet"
    assert any(hr.status == "open" for hr in dashboard.help_requests)
    assert 0 < dashboard.overall_percent < 100
    mentors = {a.mentor for a in run.mentor_assignments.select_related("mentor").filter(enrollment__isnull=False)}
    assert len(mentors) == 2
    assert all(selectors.enrollments_for_mentor(organization=korean, mentor=m).exists() for m in mentors)

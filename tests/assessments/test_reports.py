import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments.models import Framework
from assessments.reports import cohort_report, cohort_report_csv
from assessments.services import assessment_submit
from tests.factories.assessments import AssessmentWindowFactory
from tests.factories.core import MembershipFactory, UserFactory
from tests.factories.programs import EnrollmentFactory, MentorAssignmentFactory, ProgramsMentorFactory


class Cohort:
    """A run with a pre and a post window, and helpers to rate its enrollments."""

    def __init__(self, run, framework, program_manager):
        self.run = run
        self.organization = run.organization
        self.levels = {level.number: level for level in framework.levels.all()}
        self.pm = program_manager
        now = timezone.now()
        self.pre = AssessmentWindowFactory(
            run=run, framework=framework, kind="pre", opens_at=now - datetime.timedelta(days=2)
        )
        self.post = AssessmentWindowFactory(
            run=run, framework=framework, kind="post", opens_at=now - datetime.timedelta(days=1)
        )
        self.mentors = {}

    def enroll(self, name=None, mentor=None):
        enrollment = EnrollmentFactory(run=self.run, **({"participant__name": name} if name else {}))
        if mentor is not None:
            MentorAssignmentFactory(run=self.run, mentor=mentor, enrollment=enrollment)
        return enrollment

    def rate(self, window, enrollment, role, number, minutes_ago=10, **assessor):
        if role == "pm" and "assessor_user" not in assessor:
            assessor["assessor_user"] = self.pm
        return assessment_submit(
            organization=self.organization,
            window=window,
            subject_enrollment=enrollment,
            assessor_role=role,
            level=self.levels[number],
            now=timezone.now() - datetime.timedelta(minutes=minutes_ago),
            **assessor,
        )

    def peer(self):
        return EnrollmentFactory(run=self.run, status="dropped")


@pytest.fixture
def cohort(run, framework, program_manager):
    return Cohort(run, framework, program_manager)


def another_pm(organization):
    user = UserFactory()
    MembershipFactory(organization=organization, user=user, role=30)
    return user


def summary_of(report, window):
    return next(s for s in report.windows if s.window.pk == window.pk)


def participant_row(report, enrollment):
    return next(p for p in report.participants if p.enrollment_id == enrollment.pk)


def test_consensus_is_the_median_of_ratings_by_others_and_ignores_the_self_rating(cohort):
    mentor = ProgramsMentorFactory(organization=cohort.organization)
    odd = cohort.enroll("Odd", mentor=mentor)
    cohort.rate(cohort.pre, odd, "self", 5)
    cohort.rate(cohort.pre, odd, "mentor", 2, assessor_mentor=mentor)
    cohort.rate(cohort.pre, odd, "pm", 3)
    cohort.rate(cohort.pre, odd, "peer", 5, assessor_enrollment=cohort.peer())
    even = cohort.enroll("Even", mentor=mentor)
    cohort.rate(cohort.pre, even, "mentor", 2, assessor_mentor=mentor)
    cohort.rate(cohort.pre, even, "pm", 3)

    report = cohort_report(organization=cohort.organization, run=cohort.run)

    assert participant_row(report, odd).before == 3.0
    assert participant_row(report, odd).self_before == 5
    assert participant_row(report, even).before == 2.5


def test_the_organization_can_choose_the_mean_or_the_latest_rating(cohort, framework):
    mentor = ProgramsMentorFactory(organization=cohort.organization)
    enrollment = cohort.enroll("Kim", mentor=mentor)
    cohort.rate(cohort.pre, enrollment, "mentor", 2, minutes_ago=30, assessor_mentor=mentor)
    cohort.rate(cohort.pre, enrollment, "pm", 3, minutes_ago=5)
    cohort.rate(cohort.pre, enrollment, "peer", 5, minutes_ago=20, assessor_enrollment=cohort.peer())

    framework.consensus_method = Framework.ConsensusMethod.MEAN
    framework.save()
    assert participant_row(cohort_report(organization=cohort.organization, run=cohort.run), enrollment).before == 3.33

    framework.consensus_method = Framework.ConsensusMethod.LATEST
    framework.save()
    assert participant_row(cohort_report(organization=cohort.organization, run=cohort.run), enrollment).before == 3.0


def test_distribution_gap_and_growth(cohort):
    # Four participants: pre consensus 1, 1, 2, 0 -> post 3, 1, 3, 0 (the last not rated after).
    plan = [("A", 1, 3, 2, 3), ("B", 1, 1, 3, 2), ("C", 2, 3, 2, 3), ("D", 0, None, 1, None)]
    people = {}
    for name, before, after, self_before, self_after in plan:
        enrollment = people[name] = cohort.enroll(name)
        cohort.rate(cohort.pre, enrollment, "pm", before)
        cohort.rate(cohort.pre, enrollment, "self", self_before)
        if after is not None:
            cohort.rate(cohort.post, enrollment, "pm", after)
            cohort.rate(cohort.post, enrollment, "self", self_after)

    report = cohort_report(organization=cohort.organization, run=cohort.run)

    pre = summary_of(report, cohort.pre)
    assert [(bar.number, bar.consensus, bar.self) for bar in pre.distribution] == [
        (0, 1, 0),
        (1, 2, 1),
        (2, 1, 2),
        (3, 0, 1),
        (4, 0, 0),
        (5, 0, 0),
    ]
    assert pre.subjects_rated == 4 and pre.mean_consensus == 1.0
    # Self minus others: A +1, B +2, C 0, D +1.
    assert pre.mean_gap == 1.0
    assert (pre.overestimate, pre.aligned, pre.underestimate) == (3, 1, 0)

    assert report.before_window == cohort.pre and report.after_window == cohort.post
    assert report.growth.subjects == 3
    assert report.growth.mean_before == 1.33 and report.growth.mean_after == 2.33
    assert report.growth.mean_delta == 1.0
    assert report.growth.moved_up == 2 and report.growth.moved_up_share == 0.667
    assert [(p.name, p.before, p.after, p.delta) for p in report.participants] == [
        ("A", 1.0, 3.0, 2.0),
        ("B", 1.0, 1.0, 0.0),
        ("C", 2.0, 3.0, 1.0),
        ("D", 0.0, None, None),
    ]
    post = summary_of(report, cohort.post)
    # After: A 0, B +1, C 0.
    assert post.mean_gap == 0.33 and (post.overestimate, post.aligned, post.underestimate) == (1, 2, 0)


def test_breakdown_by_mentor(cohort):
    kind_mentor = ProgramsMentorFactory(organization=cohort.organization, user__name="Alex Mentor")
    quiet_mentor = ProgramsMentorFactory(organization=cohort.organization, user__name="Blair Mentor")
    first = cohort.enroll("First", mentor=kind_mentor)
    second = cohort.enroll("Second", mentor=kind_mentor)
    third = cohort.enroll("Third", mentor=quiet_mentor)
    for enrollment, before, after in [(first, 1, 3), (second, 2, 3), (third, 1, 1)]:
        cohort.rate(cohort.pre, enrollment, "pm", before)
        cohort.rate(cohort.post, enrollment, "pm", after)

    report = cohort_report(organization=cohort.organization, run=cohort.run)

    assert [(m.name, m.mentees, m.with_growth, m.mean_delta, m.moved_up) for m in report.mentors] == [
        ("Alex Mentor", 2, 2, 1.5, 2),
        ("Blair Mentor", 1, 1, 0.0, 0),
    ]


def test_growth_between_chosen_windows(cohort, run, framework):
    mid = AssessmentWindowFactory(run=run, framework=framework, kind="mid")
    enrollment = cohort.enroll("Lee")
    cohort.rate(cohort.pre, enrollment, "pm", 0)
    cohort.rate(mid, enrollment, "pm", 2)
    cohort.rate(cohort.post, enrollment, "pm", 3)
    report = cohort_report(organization=cohort.organization, run=run, before_window_id=mid.pk)
    assert report.before_window == mid and report.growth.mean_delta == 1.0


def test_a_report_sees_only_its_own_organization(cohort, other_window, other_enrollment, other_organization):
    enrollment = cohort.enroll("Mine")
    cohort.rate(cohort.pre, enrollment, "pm", 2)
    other_pm = another_pm(other_organization)
    assessment_submit(
        organization=other_organization,
        window=other_window,
        subject_enrollment=other_enrollment,
        assessor_role="pm",
        assessor_user=other_pm,
        level=other_window.framework.levels.get(number=5),
    )
    mine = cohort_report(organization=cohort.organization, run=cohort.run)
    assert [p.enrollment_id for p in mine.participants] == [enrollment.pk]
    # Asking with another organization's run finds none of its windows: nothing leaks.
    crossed = cohort_report(organization=cohort.organization, run=other_window.run)
    assert crossed.windows == [] and crossed.participants == []


def test_archived_enrollments_drop_out_of_the_report(cohort):
    enrollment = cohort.enroll("Gone")
    cohort.rate(cohort.pre, enrollment, "pm", 2)
    enrollment.archived_at = timezone.now()
    enrollment.save()
    report = cohort_report(organization=cohort.organization, run=cohort.run)
    assert report.participants == [] and summary_of(report, cohort.pre).subjects_rated == 0


def test_the_csv_has_every_section(cohort):
    enrollment = cohort.enroll("Park")
    cohort.rate(cohort.pre, enrollment, "pm", 1)
    cohort.rate(cohort.post, enrollment, "pm", 2)
    content = cohort_report_csv(cohort_report(organization=cohort.organization, run=cohort.run))
    assert "Levels per window" in content and "Perception gap per window" in content
    assert f"{enrollment.pk},Park,1.0,2.0,1.0" in content


def _build_cohort(program_manager, framework, size):
    from tests.factories.programs import RunFactory

    run = RunFactory(program__organization=framework.organization, organization=framework.organization)
    cohort = Cohort(run, framework, program_manager)
    mentors = [ProgramsMentorFactory(organization=run.organization) for _ in range(3)]
    for index in range(size):
        mentor = mentors[index % 3]
        enrollment = cohort.enroll(mentor=mentor)
        cohort.rate(cohort.pre, enrollment, "self", (index + 1) % 6)
        cohort.rate(cohort.pre, enrollment, "mentor", index % 4, assessor_mentor=mentor)
        cohort.rate(cohort.pre, enrollment, "pm", index % 3)
        cohort.rate(cohort.post, enrollment, "mentor", index % 4 + 1, assessor_mentor=mentor)
    return cohort


def _queries_for_report(cohort):
    with CaptureQueriesContext(connection) as queries:
        report = cohort_report(organization=cohort.organization, run=cohort.run)
    return len(queries), report


def test_the_report_makes_the_same_number_of_queries_for_3_and_for_30_enrollments(program_manager, framework):
    small, small_report = _queries_for_report(_build_cohort(program_manager, framework, 3))
    large, large_report = _queries_for_report(_build_cohort(program_manager, framework, 30))
    assert len(small_report.participants) == 3 and len(large_report.participants) == 30
    assert small == large
    assert small == 7  # windows, levels, window figures, distribution, participants, growth, mentors

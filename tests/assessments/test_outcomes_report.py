"""Outcomes beside process health: numbers on a constructed run, anonymity, isolation, constant queries."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.outcomes import (
    organization_outcomes,
    organization_outcomes_csv,
    run_outcomes,
    run_outcomes_csv,
)
from mentors.models import SessionAttendance, SessionRating
from programs.models import CheckIn, Enrollment, HelpRequest, MilestoneProgress
from tests.assessments.test_reports import Cohort
from tests.factories.mentors import MentoringSessionFactory
from tests.factories.programs import (
    CheckInFactory,
    EnrollmentFactory,
    HelpRequestFactory,
    MentorAssignmentFactory,
    MilestoneFactory,
    ProgramsMentorFactory,
    RunFactory,
)

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


def _help(enrollment, *, hours_ago, waited_hours):
    """A help request created ``hours_ago`` and first answered ``waited_hours`` later (None: unanswered)."""
    request = HelpRequestFactory(enrollment=enrollment)
    created = timezone.now() - hours_ago * HOUR
    first = None if waited_hours is None else created + waited_hours * HOUR
    HelpRequest.objects.for_organization(enrollment.organization).filter(pk=request.pk).update(
        created_at=created, first_response_at=first, status="answered" if first else "open"
    )
    return request


def _done(enrollment, milestone, *, on):
    progress = MilestoneProgress.objects.create(
        organization=enrollment.organization, enrollment=enrollment, milestone=milestone, status="done"
    )
    moment = datetime.datetime.combine(on, datetime.time(12), tzinfo=datetime.UTC)
    MilestoneProgress.objects.for_organization(enrollment.organization).filter(pk=progress.pk).update(updated_at=moment)
    return progress


def _session(mentor, *, held_on, attendees, ratings=()):
    session = MentoringSessionFactory(mentor=mentor, organization=mentor.organization, held_on=held_on)
    for enrollment in attendees:
        SessionAttendance.objects.create(organization=mentor.organization, session=session, enrollment=enrollment)
    for enrollment, score in ratings:
        SessionRating.objects.create(
            organization=mentor.organization, session=session, participant=enrollment.participant, score=score
        )
    return session


class Built:
    pass


def build_run(organization, framework, program_manager, *, name="Spring", extra=0):
    """The constructed run of the tests below (numbers worked out by hand in the comments).

    ``extra`` adds that many more enrollments with a little of everything, for the query counts.
    """
    today = timezone.localdate(timezone=datetime.timezone(datetime.timedelta(hours=9)))
    run = RunFactory(
        program__organization=organization,
        name=name,
        starts_on=today - 27 * DAY,  # 28 days so far: 4 weeks
        ends_on=today + 60 * DAY,
        final_deadline=today + 50 * DAY,
    )
    cohort = Cohort(run, framework, program_manager)
    m1 = ProgramsMentorFactory(organization=organization, user__name="Mentor One")
    m2 = ProgramsMentorFactory(organization=organization, user__name="Mentor Two")
    a = cohort.enroll("A Founder", mentor=m1)
    b = cohort.enroll("B Founder", mentor=m1)
    c = cohort.enroll("C Founder")
    d = cohort.enroll("D Founder")
    MentorAssignmentFactory(run=run, mentor=m2)  # run-wide: C and D, who have no mentor of their own
    dropped = EnrollmentFactory(run=run, status="dropped")

    now = timezone.now()
    for enrollment, contact in ((a, now - DAY), (b, now - 20 * DAY), (c, None), (d, now - 15 * DAY)):
        Enrollment.objects.for_organization(organization).filter(pk=enrollment.pk).update(last_contact_at=contact)
    # Check-ins: 4 + 2 + 2 + 0 = 8 of current enrollments; the dropped one's and an archived one don't count.
    for enrollment, n in ((a, 4), (b, 2), (c, 2), (dropped, 3)):
        for _ in range(n):
            CheckInFactory(enrollment=enrollment)
    archived = CheckInFactory(enrollment=d)
    CheckIn.objects.for_organization(organization).filter(pk=archived.pk).update(archived_at=now)

    # Milestones: two due (10 and 3 days ago), one ahead. 12 pairs; 8 due.
    m_a = MilestoneFactory(run=run, name="Interviews", due_on=today - 10 * DAY)
    m_b = MilestoneFactory(run=run, name="Prototype", due_on=today - 3 * DAY)
    m_c = MilestoneFactory(run=run, name="Demo", due_on=today + 20 * DAY)
    _done(a, m_a, on=today - 12 * DAY)  # on time
    _done(a, m_b, on=today - 1 * DAY)  # late
    _done(b, m_a, on=today - 10 * DAY)  # on time (the due day itself)
    _done(c, m_c, on=today - 1 * DAY)  # early, not yet due
    _done(dropped, m_a, on=today - 11 * DAY)  # not a current enrollment

    # Help requests: waits 1, 3, 5 h and one unanswered (M1: A, B); 2 and 10 h (M2: C, D).
    _help(a, hours_ago=100, waited_hours=1)
    _help(a, hours_ago=90, waited_hours=3)
    _help(b, hours_ago=80, waited_hours=5)
    _help(b, hours_ago=5, waited_hours=None)
    _help(c, hours_ago=70, waited_hours=2)
    _help(d, hours_ago=60, waited_hours=10)

    # Sessions: M1 two held (A, B, C; A) and one ahead; M2 one held (C, D). Ratings: 5, 4, 3 of M1's
    # first session (three raters: shown); A's 1 of the second and C's 2 of M2's (one rater each: withheld).
    _session(m1, held_on=today - 5 * DAY, attendees=[a, b, c], ratings=[(a, 5), (b, 4), (c, 3)])
    _session(m1, held_on=today - 2 * DAY, attendees=[a], ratings=[(a, 1)])
    _session(m1, held_on=today + 3 * DAY, attendees=[a])
    _session(m2, held_on=today - 4 * DAY, attendees=[c, d], ratings=[(c, 2)])

    # Levels (pre -> post): A self 1->3, mentor 1->2, PM 2->4; B mentor 2->2, PM 1 (pre only); C self 0->1.
    cohort.rate(cohort.pre, a, "self", 1)
    cohort.rate(cohort.post, a, "self", 3)
    cohort.rate(cohort.pre, a, "mentor", 1, assessor_mentor=m1)
    cohort.rate(cohort.post, a, "mentor", 2, assessor_mentor=m1)
    cohort.rate(cohort.pre, a, "pm", 2)
    cohort.rate(cohort.post, a, "pm", 4)
    cohort.rate(cohort.pre, b, "mentor", 2, assessor_mentor=m1)
    cohort.rate(cohort.post, b, "mentor", 2, assessor_mentor=m1)
    cohort.rate(cohort.pre, b, "pm", 1)
    cohort.rate(cohort.pre, c, "self", 0)
    cohort.rate(cohort.post, c, "self", 1)

    for i in range(extra):
        e = cohort.enroll(f"Extra {i}", mentor=m1)
        CheckInFactory(enrollment=e)
        _done(e, m_a, on=today - 11 * DAY)
        _help(e, hours_ago=50, waited_hours=i + 1)
        _session(m1, held_on=today - DAY, attendees=[e], ratings=[(e, 4)])
        cohort.rate(cohort.pre, e, "self", 1)
        cohort.rate(cohort.post, e, "self", 2)
        cohort.rate(cohort.pre, e, "pm", 1)

    built = Built()
    built.__dict__.update(run=run, cohort=cohort, m1=m1, m2=m2, a=a, b=b, c=c, d=d)
    return built


@pytest.fixture
def built(organization, framework, program_manager):
    return build_run(organization, framework, program_manager)


def test_process_health_numbers_of_a_constructed_run(organization, built):
    report = run_outcomes(organization=organization, run=built.run)
    row = report.row

    assert row.enrollments == 4
    assert row.weeks == 4.0
    assert row.check_ins == 8
    assert row.check_ins_per_participant_week == 0.5
    # B (20 days) and D (15 days) went quiet; C never spoke and the run is 27 days old.
    assert row.silent == 3

    assert (row.milestones, row.milestones_due, row.done, row.done_on_time) == (3, 2, 4, 2)
    assert row.completion_percent == 33.3  # 4 of 12
    assert row.on_time_percent == 25.0  # 2 of 8

    assert (row.responses.help_requests, row.responses.answered, row.responses.unanswered) == (6, 5, 1)
    assert row.responses.median_hours == 3.0  # 1, 2, 3, 5, 10
    assert row.sessions == 3  # the one ahead is not held yet
    # Only the session with three raters counts: (5 + 4 + 3) / 3; the two lone ratings are withheld.
    assert (row.ratings.count, row.ratings.average, row.ratings.withheld) == (3, 4.0, 2)


def test_median_first_response_and_ratings_per_mentor(organization, built):
    report = run_outcomes(organization=organization, run=built.run)
    one, two = report.mentors

    assert (one.name, two.name) == ("Mentor One", "Mentor Two")
    # M1 answers A and B (their own mentor): 1, 3, 5 hours and one unanswered.
    assert (one.responses.help_requests, one.responses.answered, one.responses.median_hours) == (4, 3, 3.0)
    # M2 is run-wide: C and D have no mentor of their own. Median of 2 and 10 hours.
    assert (two.responses.help_requests, two.responses.answered, two.responses.median_hours) == (2, 2, 6.0)
    assert (one.sessions, two.sessions) == (2, 1)
    # Three raters make an average; a session with one rater is left out (ratings are anonymous).
    assert (one.ratings.count, one.ratings.average, one.ratings.withheld, one.ratings.hidden) == (3, 4.0, 1, False)
    assert (two.ratings.count, two.ratings.average, two.ratings.withheld, two.ratings.hidden) == (0, None, 1, True)


def test_no_average_rating_below_three_raters_of_a_session(organization, framework, program_manager):
    built = build_run(organization, framework, program_manager)
    SessionRating.objects.for_organization(organization).filter(score=3).delete()  # the first session: 2 raters

    report = run_outcomes(organization=organization, run=built.run)

    assert (report.row.ratings.count, report.row.ratings.withheld) == (0, 4)
    assert report.row.ratings.average is None and report.row.ratings.hidden
    assert report.mentors[0].ratings.average is None
    lines = run_outcomes_csv(report).splitlines()
    assert lines[2].endswith(",0,fewer than 3 ratings")  # the run's row: no shown ratings, no average
    assert "Mentor One,4,3,3.0,2,0,fewer than 3 ratings" in lines


def test_a_session_with_three_raters_from_several_runs_counts_only_the_runs_own_ratings(
    organization, framework, program_manager, built
):
    """The session is shown (three raters), but this run's share of it is only one rating: no average."""
    other = RunFactory(program__organization=organization, name="Autumn")
    x, y = EnrollmentFactory(run=other), EnrollmentFactory(run=other)
    today = built.run.starts_on + 27 * DAY
    _session(built.m2, held_on=today - DAY, attendees=[built.d, x, y], ratings=[(built.d, 1), (x, 5), (y, 5)])

    rows = {r.run.pk: r for r in organization_outcomes(organization=organization).rows}

    assert (rows[built.run.pk].ratings.count, rows[built.run.pk].ratings.average) == (4, 3.25)
    assert (rows[other.pk].ratings.count, rows[other.pk].ratings.average, rows[other.pk].ratings.hidden) == (
        2,
        None,
        True,
    )


def test_silent_for_n_days_follows_n(organization, built):
    assert run_outcomes(organization=organization, run=built.run, silent_days=16).row.silent == 2  # B and C
    # No contact for 30 days: nobody; C never spoke but the run is only 27 days old.
    assert run_outcomes(organization=organization, run=built.run, silent_days=30).row.silent == 0


def test_levels_distribution_and_growth_per_participant_by_role(organization, built):
    report = run_outcomes(organization=organization, run=built.run)
    growth = {g.role: g for g in report.row.growth_by_role}

    assert (growth["self"].subjects, growth["self"].mean_before, growth["self"].mean_after) == (2, 0.5, 2.0)
    assert growth["self"].mean_delta == 1.5
    assert (growth["mentor"].subjects, growth["mentor"].mean_delta) == (2, 0.5)
    assert (growth["pm"].subjects, growth["pm"].mean_before, growth["pm"].mean_after) == (1, 2.0, 4.0)

    pre = next(d for d in report.distributions if d.window.kind == "pre")
    counts = {bar.number: bar.counts for bar in pre.bars}
    assert counts[0] == {"self": 1, "mentor": 0, "pm": 0}
    assert counts[1] == {"self": 1, "mentor": 1, "pm": 1}
    assert counts[2] == {"self": 0, "mentor": 1, "pm": 1}

    by_name = {p.name: p for p in report.participants}
    assert set(by_name) == {"A Founder", "B Founder", "C Founder"}
    a = by_name["A Founder"]
    assert (a.delta("self"), a.delta("mentor"), a.delta("pm")) == (2.0, 1.0, 2.0)
    b = by_name["B Founder"]
    assert (b.before["pm"], b.after.get("pm"), b.delta("pm")) == (1.0, None, None)


def test_organization_view_has_one_row_per_run_with_the_same_numbers(
    organization, framework, program_manager, built, other_organization
):
    second = RunFactory(program__organization=organization, name="Autumn")
    EnrollmentFactory(run=second)
    RunFactory(program__organization=other_organization)

    report = organization_outcomes(organization=organization)

    assert {row.run.pk for row in report.rows} == {built.run.pk, second.pk}
    row = next(r for r in report.rows if r.run.pk == built.run.pk)
    single = run_outcomes(organization=organization, run=built.run).row
    for name in (
        "enrollments",
        "check_ins_per_participant_week",
        "silent",
        "completion_percent",
        "on_time_percent",
        "sessions",
    ):
        assert getattr(row, name) == getattr(single, name), name
    assert row.responses == single.responses
    assert row.ratings == single.ratings
    assert row.growth == single.growth
    other = next(r for r in report.rows if r.run.pk == second.pk)
    assert (other.enrollments, other.responses.median_hours, other.completion_percent) == (1, None, None)

    rows = list(csv.reader(io.StringIO(organization_outcomes_csv(report))))
    [line] = [r for r in rows if r and r[0] == str(built.run.pk)]
    assert line[1] == "Spring" and line[2] == "4"
    assert "3.0" in line and "33.3" in line and "25.0" in line and "4.0" in line


# windows, levels, enrollments, check-ins, milestones, progress, help requests, sessions, growth,
# distribution, participants, mentors, mentors' help requests, mentors' sessions
RUN_QUERIES = 14
ORGANIZATION_QUERIES = 9  # runs, windows and the seven queries of per-run figures


@pytest.mark.parametrize("extra", [0, 6])
def test_constant_number_of_queries(organization, framework, program_manager, extra, django_assert_num_queries):
    built = build_run(organization, framework, program_manager, extra=extra)
    RunFactory(program__organization=organization)

    with django_assert_num_queries(RUN_QUERIES):
        report = run_outcomes(organization=organization, run=built.run)
        run_outcomes_csv(report)
    assert report.row.enrollments == 4 + extra
    with django_assert_num_queries(ORGANIZATION_QUERIES):
        organization_outcomes_csv(organization_outcomes(organization=organization))


# --- pages, API and CSV -----------------------------------------------------------------


def _run_page(run):
    return reverse("admin:assessments_run_outcomes", args=[run.pk])


def _org_page(organization):
    return reverse("admin:assessments_organization_outcomes", args=[organization.pk])


def test_the_run_page_and_the_organization_view_show_the_numbers(
    organization, built, program_manager, admin_client_for
):
    client = admin_client_for(program_manager)
    body = client.get(_run_page(built.run), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="run-outcomes"' in body
    for shown in ("33.3%", "25.0%", "0.5", "3.0 h", "4.0 / 5", "Mentor One", "6.0 h", "fewer than 3 ratings"):
        assert shown in body, shown

    csv_response = client.get(reverse("admin:assessments_run_outcomes_csv", args=[built.run.pk]))
    assert csv_response["Content-Type"].startswith("text/csv")
    content = csv_response.content.decode("utf-8-sig")
    assert "Mentor One,4,3,3.0,2,3,4.0" in content
    assert "Mentor Two,2,2,6.0,1,0,fewer than 3 ratings" in content

    body = client.get(_org_page(organization)).content.decode()
    assert 'id="organization-outcomes"' in body and built.run.name in body and _run_page(built.run) in body
    org_csv = client.get(reverse("admin:assessments_organization_outcomes_csv", args=[organization.pk]))
    assert f"{built.run.pk},Spring,4," in org_csv.content.decode("utf-8-sig")


def test_bad_silent_days_is_a_message_on_the_page_not_an_error(built, program_manager, admin_client_for):
    client = admin_client_for(program_manager)
    response = client.get(_run_page(built.run) + "?silent_days=abc", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Enter a whole number of days." in response.content.decode()
    response = client.get(_run_page(built.run) + "?silent_days=16")
    assert response.context["row"].silent == 2


def test_the_wrong_organization_gets_404_from_page_csv_and_api(
    organization, built, other_organization, other_program_manager, admin_client_for, api_client_for
):
    from tests.factories.programs import RunFactory as Runs

    theirs = Runs(program__organization=other_organization)
    client = admin_client_for(other_program_manager)
    for url in (
        _run_page(built.run),
        reverse("admin:assessments_run_outcomes_csv", args=[built.run.pk]),
        _org_page(organization),
        reverse("admin:assessments_organization_outcomes_csv", args=[organization.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.get(_run_page(theirs)).status_code == 200  # their own run works

    api = api_client_for(other_program_manager)
    assert api.get(f"/api/v1/orgs/other/runs/{built.run.pk}/outcomes/").status_code == 404
    assert api.get(f"/api/v1/orgs/other/runs/{built.run.pk}/outcomes/csv/").status_code == 404
    assert api.get(f"/api/v1/orgs/hanbit/runs/{built.run.pk}/outcomes/").status_code == 404
    assert api.get("/api/v1/orgs/hanbit/reports/outcomes/").status_code == 404
    assert api.get("/api/v1/orgs/hanbit/reports/outcomes/csv/").status_code == 404
    [row] = api.get("/api/v1/orgs/other/reports/outcomes/").json()["runs"]
    assert row["run"] == theirs.pk


def test_an_api_key_of_another_organization_gets_404(built, other_organization, api_key_for, key_client):
    _key, plaintext = api_key_for(other_organization, scopes=["assessments:read"])
    client = key_client(plaintext)
    assert client.get(f"/api/v1/orgs/hanbit/runs/{built.run.pk}/outcomes/").status_code == 404
    assert client.get(f"/api/v1/orgs/other/runs/{built.run.pk}/outcomes/").status_code == 404


def test_the_api_gives_the_same_numbers(organization, built, program_manager, api_client_for, api_key_for, key_client):
    api = api_client_for(program_manager)
    data = api.get(f"/api/v1/orgs/hanbit/runs/{built.run.pk}/outcomes/").json()
    row = data["outcomes"]
    assert (row["enrollments"], row["milestone_completion_percent"], row["on_time_percent"]) == (4, 33.3, 25.0)
    assert (row["check_ins_per_participant_week"], row["silent"], row["sessions_held"]) == (0.5, 3, 3)
    assert (row["median_first_response_hours"], row["median_first_response_seconds"]) == (3.0, 10800.0)
    assert (row["session_ratings"], row["average_session_rating"], row["session_ratings_withheld"]) == (3, 4.0, 2)
    assert {g["role"]: g["mean_delta"] for g in row["growth"]} == {"self": 1.5, "mentor": 0.5, "pm": 2.0}
    mentors = {m["name"]: m for m in data["mentors"]}
    assert mentors["Mentor One"]["median_first_response_hours"] == 3.0
    assert mentors["Mentor Two"]["median_first_response_hours"] == 6.0
    assert mentors["Mentor Two"]["average_session_rating"] is None
    pre = next(d for d in data["distributions"] if d["kind"] == "pre")
    assert next(level for level in pre["levels"] if level["number"] == 1) == {
        "number": 1,
        "name": pre["levels"][1]["name"],
        "self": 1,
        "mentor": 1,
        "pm": 1,
    }
    a = next(p for p in data["participants"] if p["name"] == "A Founder")
    assert {x["role"]: x["change"] for x in a["levels"]} == {"self": 2.0, "mentor": 1.0, "pm": 2.0}

    listed = api.get("/api/v1/orgs/hanbit/reports/outcomes/?silent_days=16").json()
    assert listed["silent_days"] == 16
    [same] = [r for r in listed["runs"] if r["run"] == built.run.pk]
    assert same["silent"] == 2 and same["median_first_response_hours"] == 3.0

    csv_response = api.get(f"/api/v1/orgs/hanbit/runs/{built.run.pk}/outcomes/csv/")
    assert csv_response.status_code == 200 and "Mentor One" in csv_response.content.decode("utf-8-sig")

    _key, plaintext = api_key_for(organization, scopes=["assessments:read"])
    assert key_client(plaintext).get("/api/v1/orgs/hanbit/reports/outcomes/csv/").status_code == 200
    _key, plaintext = api_key_for(organization, scopes=["programs:read"])
    assert key_client(plaintext).get("/api/v1/orgs/hanbit/reports/outcomes/").status_code == 403


@pytest.mark.parametrize("value", ["0", "366", "abc"])
def test_the_api_answers_400_with_a_field_message_for_bad_silent_days(built, program_manager, api_client_for, value):
    response = api_client_for(program_manager).get(f"/api/v1/orgs/hanbit/reports/outcomes/?silent_days={value}")
    assert response.status_code == 400
    assert "silent_days" in response.content.decode()


# --- value-gap surveys by stage ---------------------------------------------------------


def _survey(run, *, title, milestone=None, statements, anonymous=False):
    from tests.factories.assessments import ValueStatementFactory, ValueSurveyFactory

    survey = ValueSurveyFactory(program=run.program, run=run, milestone=milestone, title=title, is_anonymous=anonymous)
    for position, (text, predicted) in enumerate(statements, start=1):
        ValueStatementFactory(survey=survey, position=position, text=text, predicted_importance=predicted)
    return survey


def _answer(survey, enrollment, ratings):
    from assessments.services import survey_response_submit

    statements = list(survey.statements.order_by("position"))
    return survey_response_submit(
        organization=survey.organization,
        survey=survey,
        enrollment=enrollment,
        ratings={s.pk: pair for s, pair in zip(statements, ratings, strict=True)},
    )


TWO = [("Weekly mentoring", 5), ("Customer interviews", 2)]


def build_stage_surveys(run):
    """Two stages and a whole-run survey; gaps worked out by hand in the comments."""
    late = MilestoneFactory(run=run, name="Demo day stage", due_on=run.final_deadline)
    early = MilestoneFactory(run=run, name="Interview stage", due_on=run.starts_on + 14 * DAY)
    e1, e2, e3 = (EnrollmentFactory(run=run) for _ in range(3))
    whole = _survey(run, title="Whole run check", statements=TWO)
    _answer(whole, e3, [(3, 3), (2, 2)])  # gaps -2, 0
    at_late = _survey(run, title="Before demo day", milestone=late, statements=TWO)
    _answer(at_late, e1, [(5, 4), (5, 4)])
    _answer(at_late, e2, [(5, 4), (3, 4)])  # importance 5 and 4: gaps 0, +2
    at_early = _survey(run, title="After interviews", milestone=early, statements=[*TWO, ("Founder dinners", 3)])
    _answer(at_early, e1, [(4, 3), (4, 4), (1, 5)])
    _answer(at_early, e2, [(2, 3), (4, 2), (3, 5)])  # importance 3, 4, 2: gaps -2, +2, -1
    # Anonymous, two participants: hidden, so it adds nothing to the stage (5s would move it).
    anonymous = _survey(run, title="Anonymous pulse", milestone=early, statements=TWO, anonymous=True)
    _answer(anonymous, e1, [(5, 5), (5, 5)])
    _answer(anonymous, e2, [(5, 5), (5, 5)])
    return early, late


def test_the_survey_report_is_read_per_stage(organization, run):
    from assessments.reports import survey_report_by_stage, survey_report_by_stage_csv

    early, late = build_stage_surveys(run)

    report = survey_report_by_stage(organization=organization, run=run)

    assert [s.label for s in report.stages] == ["Interview stage", "Demo day stage", "Whole run"]
    first = report.stages[0]
    assert [item.survey.title for item in first.surveys] == ["After interviews", "Anonymous pulse"]
    after, pulse = first.surveys
    assert [(r.statement.text, r.gap) for r in after.statements] == [
        ("Weekly mentoring", -2.0),
        ("Customer interviews", 2.0),
        ("Founder dinners", -1.0),
    ]
    assert pulse.respondents["participant"] is None and pulse.hidden_groups == ["participant"]
    assert all(r.importance is None for r in pulse.statements)

    rows = {row.text: row for row in report.statements}
    assert [c.gap for c in rows["Weekly mentoring"].cells] == [-2.0, 0.0, -2.0]
    assert [c.respondents for c in rows["Weekly mentoring"].cells] == [2, 2, 1]
    assert [c.gap for c in rows["Customer interviews"].cells] == [2.0, 2.0, 0.0]
    assert [c.respondents for c in rows["Founder dinners"].cells] == [2, 0, 0]

    content = survey_report_by_stage_csv(report)
    assert "Interview stage,After interviews,1,Weekly mentoring" in content
    assert "Weekly mentoring,-2.0,0.0,-2.0" in content
    assert "Interview stage,Anonymous pulse,1,Weekly mentoring,Essential,5,,,,0" in content  # hidden: no figures


def test_survey_stages_make_a_constant_number_of_queries(organization, run, django_assert_num_queries):
    from assessments.reports import survey_report_by_stage

    build_stage_surveys(run)
    with django_assert_num_queries(4):
        survey_report_by_stage(organization=organization, run=run)
    extra = _survey(run, title="One more", statements=TWO)
    for _ in range(3):
        _answer(extra, EnrollmentFactory(run=run), [(4, 4), (4, 4)])
    with django_assert_num_queries(4):
        report = survey_report_by_stage(organization=organization, run=run)
    assert len(report.stages[-1].surveys) == 2


def test_survey_stages_page_api_and_csv_and_the_wrong_organization(
    organization, run, program_manager, other_program_manager, admin_client_for, api_client_for
):
    build_stage_surveys(run)
    page = reverse("admin:assessments_run_survey_stages", args=[run.pk])
    csv_url = reverse("admin:assessments_run_survey_stages_csv", args=[run.pk])
    api_url = f"/api/v1/orgs/hanbit/runs/{run.pk}/value-gaps-by-stage/"

    client = admin_client_for(program_manager)
    body = client.get(page, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="survey-stages"' in body and "After interviews" in body and 'id="gap-matrix"' in body
    assert "Weekly mentoring,-2.0,0.0,-2.0" in client.get(csv_url).content.decode("utf-8-sig")
    data = api_client_for(program_manager).get(api_url).json()
    assert [s["label"] for s in data["stages"]] == ["Interview stage", "Demo day stage", "Whole run"]
    assert data["stages"][2]["milestone"] is None
    weekly = next(r for r in data["statements"] if r["text"] == "Weekly mentoring")
    assert [c["gap"] for c in weekly["stages"]] == [-2.0, 0.0, -2.0]
    assert api_client_for(program_manager).get(api_url + "csv/").status_code == 200

    other = admin_client_for(other_program_manager)
    assert other.get(page).status_code == 404 and other.get(csv_url).status_code == 404
    other_api = api_client_for(other_program_manager)
    assert other_api.get(api_url).status_code == 404
    assert other_api.get(f"/api/v1/orgs/other/runs/{run.pk}/value-gaps-by-stage/").status_code == 404
    assert other_api.get(f"/api/v1/orgs/other/runs/{run.pk}/value-gaps-by-stage/csv/").status_code == 404


def _page_queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_pages_make_as_many_queries_for_a_big_run_as_for_a_small_one(
    organization, framework, program_manager, admin_client_for
):
    client = admin_client_for(program_manager)
    small = build_run(organization, framework, program_manager, name="Small")
    _answer(_survey(small.run, title="One survey", statements=TWO), small.a, [(4, 4), (4, 4)])
    few = [_page_queries(client, _run_page(small.run)), _page_queries(client, _org_page(organization))]
    big = build_run(organization, framework, program_manager, name="Big", extra=6)
    build_stage_surveys(big.run)
    assert _page_queries(client, _run_page(big.run)) == few[0]
    assert _page_queries(client, _org_page(organization)) == few[1]  # two runs now
    stages = reverse("admin:assessments_run_survey_stages", args=[small.run.pk])
    assert _page_queries(client, stages) == _page_queries(
        client, reverse("admin:assessments_run_survey_stages", args=[big.run.pk])
    )

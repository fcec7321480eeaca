"""The reminder rules: who gets what, when, and that planning twice creates nothing."""

import datetime

from django.db.models import Count

from notifications import services
from notifications.models import Channel, Kind, Notification
from programs.models import HelpRequest, MilestoneProgress
from tests.factories.mentors import DevelopmentGoalFactory, MentorFactory
from tests.factories.notifications import NotificationSettingsFactory, UnsubscribeFactory
from tests.factories.programs import (
    EnrollmentFactory,
    HelpRequestFactory,
    MilestoneFactory,
    MilestoneProgressFactory,
    RunFactory,
)

UTC = datetime.UTC
# Tuesday 10 March 2026, 10:00 in Seoul (01:00 UTC): a send day, after the 09:00 send hour.
TUESDAY_10AM_SEOUL = datetime.datetime(2026, 3, 10, 1, 0, tzinfo=UTC)


def plan(organization, now=TUESDAY_10AM_SEOUL, **kwargs):
    return services.notifications_plan(organization=organization, now=now, **kwargs)


def rows(organization, **filters):
    return list(
        Notification.objects.for_organization(organization).filter(**filters).order_by("kind", "recipient", "slot")
    )


def kinds_to(organization, recipient):
    return sorted(n.kind for n in rows(organization, recipient=recipient))


def test_milestone_coming_up_goes_to_participants_lead_days_before(organization, reminder_settings, cohort):
    milestone = MilestoneFactory(run=cohort["run"], name="고객 인터뷰 10건", due_on=datetime.date(2026, 3, 13))

    assert plan(organization, now=TUESDAY_10AM_SEOUL - datetime.timedelta(days=1)) >= 0
    assert rows(organization, kind=Kind.MILESTONE_UPCOMING) == []

    plan(organization)
    upcoming = rows(organization, kind=Kind.MILESTONE_UPCOMING)
    assert [n.recipient for n in upcoming] == ["alex@startup.test", "minji@startup.test"]
    korean = next(n for n in upcoming if n.language == "ko")
    assert korean.subject_key == f"milestone:{milestone.id}:enrollment:{cohort['korean'].id}"
    assert korean.slot == "due:2026-03-13"
    assert korean.scheduled_for == TUESDAY_10AM_SEOUL  # planned in the daily window, due at once
    assert "고객 인터뷰 10건" in korean.subject_line
    assert "/n/unsubscribe/" in korean.body_text
    assert korean.body_html.startswith("<!DOCTYPE html>")


def test_a_lead_time_that_lands_on_a_weekend_reminds_on_the_friday_before(organization, reminder_settings, cohort):
    reminder_settings.milestone_lead_days = 1
    reminder_settings.save()
    MilestoneFactory(run=cohort["run"], due_on=datetime.date(2026, 3, 16))  # Monday; D-1 is a Sunday
    thursday = datetime.datetime(2026, 3, 12, 1, 0, tzinfo=UTC)
    friday = datetime.datetime(2026, 3, 13, 1, 0, tzinfo=UTC)

    plan(organization, now=thursday)
    assert rows(organization, kind=Kind.MILESTONE_UPCOMING) == []
    plan(organization, now=friday)
    assert len(rows(organization, kind=Kind.MILESTONE_UPCOMING)) == 2


def test_submitted_milestones_are_not_reminded(organization, reminder_settings, cohort):
    milestone = MilestoneFactory(run=cohort["run"], due_on=datetime.date(2026, 3, 10))
    MilestoneProgressFactory(
        milestone=milestone, enrollment=cohort["english"], status=MilestoneProgress.Status.SUBMITTED
    )
    plan(organization)
    assert [n.recipient for n in rows(organization, kind=Kind.MILESTONE_DUE_TODAY)] == ["minji@startup.test"]


def test_overdue_goes_to_participant_mentors_and_the_team_chat(organization, reminder_settings, cohort):
    reminder_settings.webhook_url = "https://chat.example.com/hooks/abc"
    reminder_settings.save()
    milestone = MilestoneFactory(run=cohort["run"], name="Landing page", due_on=datetime.date(2026, 3, 9))

    plan(organization)
    overdue = rows(organization, kind=Kind.MILESTONE_OVERDUE)
    assert sorted(n.recipient for n in overdue) == [
        "alex@startup.test",
        "mentor.park@hanbit.test",
        "minji@startup.test",
        "webhook",
    ]
    to_mentor = next(n for n in overdue if n.recipient == "mentor.park@hanbit.test")
    assert to_mentor.subject_key == f"milestone:{milestone.id}"
    assert "김민지" in to_mentor.body_text and "Alex Kim" not in to_mentor.body_text  # only their mentee
    webhook = next(n for n in overdue if n.channel == Channel.WEBHOOK)
    assert "Landing page" in webhook.payload["text"] and "Alex Kim" in webhook.payload["text"]

    # A week later the overdue milestone is left to the digest.
    Notification.objects.for_organization(organization).delete()
    plan(organization, now=TUESDAY_10AM_SEOUL + datetime.timedelta(days=8))
    assert rows(organization, kind=Kind.MILESTONE_OVERDUE) == []


def test_planning_the_same_slot_twice_creates_nothing(organization, reminder_settings, cohort):
    MilestoneFactory(run=cohort["run"], due_on=datetime.date(2026, 3, 10))
    MilestoneFactory(run=cohort["run"], due_on=datetime.date(2026, 3, 13))
    first = plan(organization)
    assert first > 0
    total = Notification.objects.for_organization(organization).count()
    assert plan(organization) == 0
    assert plan(organization, now=TUESDAY_10AM_SEOUL + datetime.timedelta(hours=3)) == 0
    assert Notification.objects.for_organization(organization).count() == total
    duplicates = (
        Notification.objects.for_organization(organization)
        .values("kind", "subject_key", "slot", "channel", "recipient")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert list(duplicates) == []


def test_a_missed_day_still_plans_reminders_whose_occasion_is_not_past(organization, reminder_settings, cohort):
    """Beat down on the reminder day: the next day still sends "coming up" (once)."""
    MilestoneFactory(run=cohort["run"], due_on=datetime.date(2026, 3, 13))
    plan(organization, now=TUESDAY_10AM_SEOUL + datetime.timedelta(days=1))
    assert len(rows(organization, kind=Kind.MILESTONE_UPCOMING)) == 2
    assert plan(organization, now=TUESDAY_10AM_SEOUL + datetime.timedelta(days=2)) == 0


def test_daily_reminders_wait_for_the_send_hour_and_stop_at_quiet_hours(organization, reminder_settings, cohort):
    MilestoneFactory(run=cohort["run"], due_on=datetime.date(2026, 3, 10))
    eight_am = datetime.datetime(2026, 3, 9, 23, 0, tzinfo=UTC)  # 08:00 Tuesday in Seoul
    ten_pm = datetime.datetime(2026, 3, 10, 13, 0, tzinfo=UTC)  # 22:00, quiet
    assert plan(organization, now=eight_am) == 0
    assert plan(organization, now=ten_pm) == 0
    assert plan(organization, now=ten_pm, respect_send_window=False) > 0  # a program manager's "plan now"


def test_nothing_daily_on_weekends_and_public_holidays(organization, reminder_settings, cohort):
    MilestoneFactory(run=cohort["run"], due_on=datetime.date(2026, 3, 2))
    sunday_holiday = datetime.datetime(2026, 3, 1, 1, 0, tzinfo=UTC)  # 삼일절, a Sunday
    assert plan(organization, now=sunday_holiday) == 0
    reminder_settings.working_days = [1, 2, 3, 4, 5, 6, 7]
    reminder_settings.save()
    assert plan(organization, now=sunday_holiday) == 0  # still a public holiday
    reminder_settings.skip_public_holidays = False
    reminder_settings.save()
    assert plan(organization, now=sunday_holiday) > 0


def test_a_milestone_due_on_a_public_holiday_is_reminded_the_send_day_before(organization, reminder_settings, cohort):
    """3 June 2026 (local elections) is a holiday in Korea: the due-day reminder goes out on Tuesday 2 June."""
    MilestoneFactory(run=cohort["run"], name="Pitch deck", due_on=datetime.date(2026, 6, 3))
    tuesday = datetime.datetime(2026, 6, 2, 1, 0, tzinfo=UTC)  # 10:00 in Seoul
    plan(organization, now=tuesday)
    due = rows(organization, kind=Kind.MILESTONE_DUE_TODAY)
    assert [n.recipient for n in due] == ["alex@startup.test", "minji@startup.test"]
    assert {n.slot for n in due} == {"due:2026-06-03"}
    english = next(n for n in due if n.language == "en")
    assert english.subject_line.startswith("Due Wed 3 Jun") and english.subject_line.endswith("(a day off): Pitch deck")
    assert "That is a day off, so this is your reminder today." in english.body_text
    korean = next(n for n in due if n.language == "ko")
    assert "쉬는 날" in korean.subject_line and "Pitch deck" in korean.subject_line
    assert "day without reminders" in english.reason or "알림" in english.reason
    assert rows(organization, kind=Kind.MILESTONE_UPCOMING) == []  # one message that day, not two

    # The holiday itself: nothing more, even when a program manager plans "now".
    holiday = datetime.datetime(2026, 6, 3, 1, 0, tzinfo=UTC)
    assert plan(organization, now=holiday) == 0
    assert plan(organization, now=holiday, respect_send_window=False) == 0


def test_a_milestone_due_on_a_working_day_keeps_its_due_today_wording(organization, reminder_settings, cohort):
    MilestoneFactory(run=cohort["run"], name="Pitch deck", due_on=datetime.date(2026, 3, 10))
    plan(organization)
    english = next(n for n in rows(organization, kind=Kind.MILESTONE_DUE_TODAY) if n.language == "en")
    assert english.subject_line == "Due today: Pitch deck"


def test_the_planner_reports_only_the_rows_it_inserted_itself(organization, reminder_settings, cohort):
    """Two planners at once: the one whose insert meets the other's rows reports only its own."""
    MilestoneFactory(run=cohort["run"], due_on=datetime.date(2026, 3, 10))
    assert plan(organization) == len(rows(organization)) > 0

    def copy(row, **changes):
        fields = {f.attname: getattr(row, f.attname) for f in Notification._meta.concrete_fields if not f.primary_key}
        return Notification(**{**fields, **changes})

    existing = rows(organization)
    # What a concurrent planner that rendered the same slot, plus one row of its own, inserts:
    inserted = Notification.objects.for_organization(organization).insert_new(
        [copy(row) for row in existing] + [copy(existing[0], recipient="new@startup.test")]
    )
    assert len(inserted) == 1
    assert Notification.objects.for_organization(organization).get(pk=inserted[0]).recipient == "new@startup.test"


def test_help_request_goes_to_mentors_after_the_target_then_to_program_managers(
    organization, reminder_settings, cohort
):
    reminder_settings.webhook_url = "https://chat.example.com/hooks/abc"
    reminder_settings.save()
    help_request = HelpRequestFactory(enrollment=cohort["korean"])
    asked = datetime.datetime(2026, 3, 9, 2, 0, tzinfo=UTC)  # Monday 11:00 in Seoul
    HelpRequest.objects.for_organization(organization).filter(pk=help_request.pk).update(created_at=asked)

    plan(organization, now=asked + datetime.timedelta(hours=23))
    assert rows(organization, kind=Kind.HELP_REQUEST_UNANSWERED) == []

    plan(organization, now=asked + datetime.timedelta(hours=24, minutes=1))
    to_mentors = rows(organization, kind=Kind.HELP_REQUEST_UNANSWERED)
    assert [n.recipient for n in to_mentors] == ["mentor.park@hanbit.test"]
    assert to_mentors[0].scheduled_for == asked + datetime.timedelta(hours=24)
    assert help_request.act in to_mentors[0].body_text
    assert rows(organization, kind=Kind.HELP_REQUEST_ESCALATED) == []

    plan(organization, now=asked + datetime.timedelta(hours=48, minutes=1))
    escalated = rows(organization, kind=Kind.HELP_REQUEST_ESCALATED)
    assert sorted(n.recipient for n in escalated) == ["pm@hanbit.test", "webhook"]


def test_help_request_reminders_respect_quiet_hours(organization, reminder_settings, cohort):
    help_request = HelpRequestFactory(enrollment=cohort["korean"])
    asked = datetime.datetime(2026, 3, 9, 13, 30, tzinfo=UTC)  # Monday 22:30 in Seoul
    HelpRequest.objects.for_organization(organization).filter(pk=help_request.pk).update(created_at=asked)
    plan(organization, now=asked + datetime.timedelta(hours=24, minutes=5))
    (reminder,) = rows(organization, kind=Kind.HELP_REQUEST_UNANSWERED)
    assert reminder.scheduled_for == datetime.datetime(2026, 3, 10, 23, 0, tzinfo=UTC)  # Wednesday 08:00


def test_answered_help_requests_are_not_reminded(organization, reminder_settings, cohort):
    help_request = HelpRequestFactory(enrollment=cohort["korean"])
    asked = datetime.datetime(2026, 3, 9, 2, 0, tzinfo=UTC)
    HelpRequest.objects.for_organization(organization).filter(pk=help_request.pk).update(
        created_at=asked, first_response_at=asked + datetime.timedelta(hours=2), status=HelpRequest.Status.ANSWERED
    )
    plan(organization, now=asked + datetime.timedelta(days=3))
    assert rows(organization, kind__startswith="help_request") == []


def test_quiet_participants_get_a_check_in_request_every_cadence(organization, reminder_settings, cohort):
    english = cohort["english"]
    english.last_contact_at = datetime.datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    english.save()

    plan(organization)  # 8 days of silence; the cadence is 7
    (request,) = rows(organization, kind=Kind.PARTICIPANT_SILENT)
    assert request.recipient == "alex@startup.test"
    assert request.slot == "since:2026-03-02:1"
    assert "/p/" in request.body_text  # the signed check-in link of programs

    assert plan(organization, now=TUESDAY_10AM_SEOUL + datetime.timedelta(days=1)) == 0  # same silence
    plan(organization, now=datetime.datetime(2026, 3, 16, 1, 0, tzinfo=UTC))  # 14 days: again
    assert [n.slot for n in rows(organization, kind=Kind.PARTICIPANT_SILENT, recipient="alex@startup.test")] == [
        "since:2026-03-02:1",
        "since:2026-03-02:2",
    ]


def test_weekly_digest_goes_once_a_week_to_program_managers_and_mentors(organization, reminder_settings, cohort):
    MilestoneFactory(run=cohort["run"], name="Problem interviews", due_on=datetime.date(2026, 3, 5))
    plan(organization)
    (pm_digest,) = rows(organization, kind=Kind.DIGEST_PM)
    assert pm_digest.recipient == "pm@hanbit.test" and pm_digest.slot == "week:2026-W11"
    assert "Problem interviews" in pm_digest.body_text
    (mentor_digest,) = rows(organization, kind=Kind.DIGEST_MENTOR)
    assert mentor_digest.recipient == "mentor.park@hanbit.test"
    assert "김민지" in mentor_digest.body_text

    plan(organization, now=TUESDAY_10AM_SEOUL + datetime.timedelta(days=1))
    assert len(rows(organization, kind=Kind.DIGEST_PM)) == 1
    plan(organization, now=TUESDAY_10AM_SEOUL + datetime.timedelta(days=6))  # next Monday
    assert len(rows(organization, kind=Kind.DIGEST_PM)) == 2


def test_goal_check_in_reminds_the_mentor_by_the_goals_cadence(organization, reminder_settings, cohort):
    goal_mentor = MentorFactory(organization=organization)
    goal = DevelopmentGoalFactory(mentor=goal_mentor, title="Coach, not advise", checkin_cadence_days=14)
    type(goal).objects.for_organization(organization).filter(pk=goal.pk).update(
        created_at=datetime.datetime(2026, 2, 20, 1, 0, tzinfo=UTC)
    )
    plan(organization, now=datetime.datetime(2026, 3, 5, 1, 0, tzinfo=UTC))  # 13 days
    assert rows(organization, kind=Kind.GOAL_CHECKIN_DUE) == []
    plan(organization, now=datetime.datetime(2026, 3, 6, 1, 0, tzinfo=UTC))  # 14 days
    (reminder,) = rows(organization, kind=Kind.GOAL_CHECKIN_DUE)
    assert reminder.recipient == goal_mentor.user.email and "Coach, not advise" in reminder.subject_line


def test_switched_off_kinds_are_not_planned(organization, reminder_settings, cohort):
    reminder_settings.enabled_kinds = [Kind.MILESTONE_OVERDUE]
    reminder_settings.save()
    MilestoneFactory(run=cohort["run"], due_on=datetime.date(2026, 3, 10))
    MilestoneFactory(run=cohort["run"], due_on=datetime.date(2026, 3, 9))
    plan(organization)
    assert {n.kind for n in rows(organization)} == {Kind.MILESTONE_OVERDUE}


def test_unsubscribed_people_get_a_not_sent_row_that_says_why(organization, reminder_settings, cohort):
    UnsubscribeFactory(organization=organization, email="alex@startup.test", kind=Kind.MILESTONE_DUE_TODAY)
    MilestoneFactory(run=cohort["run"], due_on=datetime.date(2026, 3, 10))
    plan(organization)
    by_recipient = {n.recipient: n for n in rows(organization, kind=Kind.MILESTONE_DUE_TODAY)}
    assert by_recipient["alex@startup.test"].status == Notification.Status.CANCELLED
    assert "수신 거부" in by_recipient["alex@startup.test"].last_error  # in the organization's language
    assert by_recipient["minji@startup.test"].status == Notification.Status.PENDING


def test_messages_are_in_the_recipients_language(organization, reminder_settings, cohort):
    MilestoneFactory(run=cohort["run"], name="Pitch deck", due_on=datetime.date(2026, 3, 10))
    plan(organization)
    by_recipient = {n.recipient: n for n in rows(organization, kind=Kind.MILESTONE_DUE_TODAY)}
    assert by_recipient["alex@startup.test"].subject_line == "Due today: Pitch deck"
    assert by_recipient["minji@startup.test"].subject_line == "오늘 마감: Pitch deck"
    assert "안녕하세요" in by_recipient["minji@startup.test"].body_text
    assert by_recipient["alex@startup.test"].reason and by_recipient["minji@startup.test"].reason


def test_team_enrollments_remind_every_member_with_an_email(organization, reminder_settings, run, program_manager):
    from tests.factories.programs import ParticipantFactory, TeamFactory, TeamMembershipFactory

    team = TeamFactory(organization=organization, name="Team Orbit")
    TeamMembershipFactory(team=team, participant=ParticipantFactory(organization=organization, email="a@orbit.test"))
    TeamMembershipFactory(team=team, participant=ParticipantFactory(organization=organization, email="b@orbit.test"))
    TeamMembershipFactory(team=team, participant=ParticipantFactory(organization=organization, email=""))
    EnrollmentFactory(run=run, participant=None, team=team)
    MilestoneFactory(run=run, due_on=datetime.date(2026, 3, 10))
    plan(organization)
    assert [n.recipient for n in rows(organization, kind=Kind.MILESTONE_DUE_TODAY)] == ["a@orbit.test", "b@orbit.test"]


def test_planning_reads_only_its_own_organization(organization, reminder_settings, cohort, other_organization):
    other_run = RunFactory(program__organization=other_organization)
    other_enrollment = EnrollmentFactory(run=other_run)
    MilestoneFactory(run=other_run, due_on=datetime.date(2026, 3, 10))
    NotificationSettingsFactory(organization=other_organization)
    MilestoneFactory(run=cohort["run"], due_on=datetime.date(2026, 3, 10))
    plan(organization)
    assert other_enrollment.participant.email not in {n.recipient for n in rows(organization)}
    assert Notification.objects.for_organization(other_organization).count() == 0


def test_draft_and_finished_runs_send_nothing(organization, reminder_settings, cohort):
    run = cohort["run"]
    MilestoneFactory(run=run, due_on=datetime.date(2026, 3, 10))
    run.status = run.Status.FINISHED
    run.save()
    assert plan(organization) == 0


def test_planning_reads_with_a_fixed_number_of_queries(organization, reminder_settings, cohort):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add_rows(count):
        for _index in range(count):
            enrollment = EnrollmentFactory(run=cohort["run"])
            milestone = MilestoneFactory(run=cohort["run"], due_on=datetime.date(2026, 3, 9))
            HelpRequestFactory(enrollment=enrollment)
            MilestoneProgressFactory(milestone=milestone, enrollment=enrollment)

    def reads_while_planning():
        with CaptureQueriesContext(connection) as captured:
            assert plan(organization) > 0
        # Inserts come in batches of the database's size limit; the reads must not grow.
        return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith("INSERT")]

    add_rows(2)
    small = reads_while_planning()
    Notification.objects.for_organization(organization).delete()
    add_rows(10)
    assert len(reads_while_planning()) == len(small)


def test_the_preview_shows_what_will_be_sent_in_the_next_14_days_and_why(organization, reminder_settings, cohort):
    MilestoneFactory(run=cohort["run"], name="Prototype test", due_on=datetime.date(2026, 3, 20))
    other_run = RunFactory(program__organization=organization, name="Other cohort")
    EnrollmentFactory(run=other_run)
    MilestoneFactory(run=other_run, name="Not this run", due_on=datetime.date(2026, 3, 20))

    preview = services.notifications_preview(organization=organization, run=cohort["run"], now=TUESDAY_10AM_SEOUL)
    about_prototype = [r for r in preview if "Prototype test" in r["subject"]]
    kinds = [r["kind"] for r in about_prototype]
    assert kinds.count(Kind.MILESTONE_UPCOMING) == 2
    assert kinds.count(Kind.MILESTONE_DUE_TODAY) == 2
    assert kinds.count(Kind.MILESTONE_OVERDUE) == 3  # both founders and the Korean founder's mentor
    upcoming = next(r for r in about_prototype if r["kind"] == Kind.MILESTONE_UPCOMING)
    assert upcoming["when"].date() == datetime.date(2026, 3, 17) and upcoming["when"].hour == 9
    assert "3" in upcoming["reason"]
    assert not any("Not this run" in r["subject"] for r in preview)
    assert [r["when"] for r in preview] == sorted(r["when"] for r in preview)
    # Nothing is written by a preview.
    assert Notification.objects.for_organization(organization).count() == 0


def test_assessment_window_reminders_go_to_whoever_still_has_to_assess(organization, reminder_settings, cohort):
    from assessments import services as assessment_services
    from assessments.models import Assessment
    from tests.factories.assessments import AssessmentWindowFactory, LevelFactory

    window = AssessmentWindowFactory(
        run=cohort["run"],
        opens_at=datetime.datetime(2026, 3, 9, 0, 0, tzinfo=UTC),
        closes_at=datetime.datetime(2026, 3, 20, 0, 0, tzinfo=UTC),  # Friday 09:00 in Seoul
    )
    level = LevelFactory(framework=window.framework, number=2)
    assessment_services.assessment_submit(
        organization=organization,
        window=window,
        level=level,
        assessor_role=Assessment.Role.SELF,
        subject_enrollment=cohort["english"],
        now=datetime.datetime(2026, 3, 9, 12, 0, tzinfo=UTC),
    )

    plan(organization)
    opened = rows(organization, kind=Kind.ASSESSMENT_OPENED)
    assert [n.recipient for n in opened] == ["mentor.park@hanbit.test", "minji@startup.test"]
    to_founder = next(n for n in opened if n.recipient == "minji@startup.test")
    assert "/a/self/" in to_founder.body_text  # her own signed self-assessment link
    to_mentor = next(n for n in opened if n.recipient == "mentor.park@hanbit.test")
    assert "김민지" in to_mentor.body_text

    wednesday = datetime.datetime(2026, 3, 18, 1, 0, tzinfo=UTC)  # within two days of closing
    plan(organization, now=wednesday)
    closing = rows(organization, kind=Kind.ASSESSMENT_CLOSING)
    assert sorted(n.recipient for n in closing) == ["mentor.park@hanbit.test", "minji@startup.test"]
    assert plan(organization, now=wednesday + datetime.timedelta(days=1)) == 0


def test_the_goal_and_assessment_rules_read_other_apps_only_through_the_organization(
    organization, reminder_settings, cohort, other_organization
):
    from tests.factories.assessments import AssessmentWindowFactory

    other_run = RunFactory(program__organization=other_organization)
    EnrollmentFactory(run=other_run)
    AssessmentWindowFactory(
        run=other_run,
        opens_at=datetime.datetime(2026, 3, 9, 0, 0, tzinfo=UTC),
        closes_at=datetime.datetime(2026, 3, 20, 0, 0, tzinfo=UTC),
    )
    DevelopmentGoalFactory(mentor=MentorFactory(organization=other_organization))
    plan(organization)
    assert rows(organization, kind__in=[Kind.ASSESSMENT_OPENED, Kind.GOAL_CHECKIN_DUE]) == []


def test_london_reminders_stay_at_nine_local_across_the_clock_change(other_organization, other_program_manager):
    NotificationSettingsFactory(organization=other_organization)
    run = RunFactory(program__organization=other_organization)
    EnrollmentFactory(run=run, last_contact_at=datetime.datetime(2026, 3, 26, 9, 0, tzinfo=UTC))
    MilestoneFactory(run=run, name="Pricing test", due_on=datetime.date(2026, 3, 31))  # clocks change on the 29th
    thursday = datetime.datetime(2026, 3, 26, 12, 0, tzinfo=UTC)

    preview = services.notifications_preview(organization=other_organization, run=run, now=thursday)
    about = {r["kind"]: r["when"] for r in preview if "Pricing test" in r["subject"]}
    upcoming, due = about[Kind.MILESTONE_UPCOMING], about[Kind.MILESTONE_DUE_TODAY]
    assert (upcoming.date(), upcoming.hour, upcoming.utcoffset()) == (
        datetime.date(2026, 3, 27),
        9,
        datetime.timedelta(0),
    )
    assert (due.date(), due.hour, due.utcoffset()) == (datetime.date(2026, 3, 31), 9, datetime.timedelta(hours=1))
    assert due.astimezone(UTC).hour == 8

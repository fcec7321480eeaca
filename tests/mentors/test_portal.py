"""The mentor portal (/mentor/): pages, privacy, wrong organization, wrong mentor, bad input."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from core.middleware import ACTIVE_ORGANIZATION_SESSION_KEY
from mentors import links, selectors, services
from mentors.models import DevelopmentGoal, GoalCheckIn, MentoringApproach, MentoringSession, SessionRating
from programs import services as program_services
from programs.models import HelpRequest, HelpRequestReply
from tests.factories.mentors import DevelopmentGoalFactory, MentorFactory, MentoringSessionFactory
from tests.factories.programs import CheckInFactory, EnrollmentFactory, MilestoneFactory, RunFactory


@pytest.fixture
def portal(admin_client_for, mentor_user, portal_mentor):
    """A browser session of the portal mentor."""
    return admin_client_for(mentor_user)


@pytest.fixture
def help_request(organization, mentee):
    return program_services.help_request_create(
        organization=organization,
        enrollment=mentee,
        act="We interviewed 12 shop owners; none would pay.",
        impact="Our pricing page goes live next week.",
        desired_outcome="Thirty minutes on how to test willingness to pay.",
    )


def url(name, *args):
    return reverse(f"mentors:{name}", args=args)


# --- access -------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_portal_login(client, db):
    response = client.get(url("goal_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(url("login"))


def test_logging_in_with_email_lands_on_the_portal_in_the_users_language(client, mentor_user, portal_mentor):
    mentor_user.language = "en"
    mentor_user.save()
    response = client.post(url("login"), {"username": mentor_user.email, "password": "pass-for-tests"})
    assert response.status_code == 302 and response["Location"] == url("home")
    assert response.cookies["django_language"].value == "en"
    assert client.get(url("home")).status_code == 200


def test_a_wrong_password_shows_the_form_again(client, mentor_user, portal_mentor):
    response = client.post(url("login"), {"username": mentor_user.email, "password": "nope"})
    assert response.status_code == 200
    assert response.context["form"].errors


def test_a_member_who_is_not_a_mentor_gets_a_clear_page(admin_client_for, program_manager):
    response = admin_client_for(program_manager).get(url("home"))
    assert response.status_code == 403
    assert b"not a mentor" in response.content


def test_a_multi_organization_mentor_switches_organizations(
    portal, organization, other_organization, mentor_user, goal
):
    other_engagement = MentorFactory(organization=other_organization, user=mentor_user)
    other_goal = DevelopmentGoalFactory(mentor=other_engagement, title="Goal at the other organization")

    portal.post(url("switch_organization"), {"organization": organization.pk})
    home = portal.get(url("home"))
    assert b"switch-organization" in home.content
    assert portal.get(url("goal_detail", other_goal.pk)).status_code == 404

    response = portal.post(url("switch_organization"), {"organization": other_organization.pk})
    assert response.status_code == 302
    assert portal.session[ACTIVE_ORGANIZATION_SESSION_KEY] == other_organization.pk
    assert portal.get(url("goal_detail", other_goal.pk)).status_code == 200
    assert portal.get(url("goal_detail", goal.pk)).status_code == 404


def test_switching_to_an_organization_one_does_not_mentor_for_is_refused(portal, other_organization):
    response = portal.post(url("switch_organization"), {"organization": other_organization.pk}, follow=True)
    assert portal.session.get(ACTIVE_ORGANIZATION_SESSION_KEY) != other_organization.pk
    assert b"do not mentor" in response.content


def test_nav_links_to_assessments_only_when_those_pages_exist(portal):
    from django.urls import NoReverseMatch

    content = portal.get(url("home")).content.decode()
    for name in ("assessments:mentor_assessments", "assessments:mentor_surveys"):
        try:
            target = reverse(name)
        except NoReverseMatch:
            target = None
        if target:
            assert f'href="{target}"' in content
    assert 'href="/mentor/goals/"' in content


def test_every_portal_page_renders(portal, goal, mentee, help_request, run, portal_mentor, organization):
    session = services.session_log(
        organization=organization, mentor=portal_mentor, held_on=datetime.date(2026, 4, 7), attendees=[mentee]
    )
    pages = [
        url("home"),
        url("profile"),
        url("goal_list"),
        url("goal_list") + "?archived=1",
        url("goal_create"),
        url("goal_detail", goal.pk),
        url("goal_edit", goal.pk),
        url("goal_check_in", goal.pk),
        url("mentee_list"),
        url("mentee_detail", mentee.pk),
        url("session_list"),
        url("session_create"),
        url("session_detail", session.pk),
        url("approach_edit", run.pk),
    ]
    for page in pages:
        assert portal.get(page).status_code == 200, page


# --- goals -------------------------------------------------------------------------------------


def _goal_form(**overrides):
    data = {
        "title": "Give a talk on pricing",
        "why_it_matters": "I want to be known for pricing.",
        "target_date": "2026-11-30",
        "status": "on_track",
        "visibility": "private",
        "checkin_cadence_days": "14",
        "kr-TOTAL_FORMS": "1",
        "kr-INITIAL_FORMS": "0",
        "kr-MIN_NUM_FORMS": "0",
        "kr-MAX_NUM_FORMS": "1000",
        "kr-0-title": "Talks given",
        "kr-0-start_value": "0",
        "kr-0-target_value": "2",
        "kr-0-unit": "talks",
    }
    data.update(overrides)
    return data


def test_a_mentor_creates_a_goal_with_key_results(portal, organization, portal_mentor):
    response = portal.post(url("goal_create"), _goal_form())
    goal = DevelopmentGoal.objects.for_organization(organization).get()
    assert response.status_code == 302 and response["Location"] == url("goal_detail", goal.pk)
    assert goal.mentor == portal_mentor and goal.visibility == "private"
    assert list(goal.key_results.values_list("title", "target_value")) == [("Talks given", 2)]


def test_a_key_result_with_target_equal_to_start_is_a_form_error_and_nothing_is_saved(portal, organization):
    response = portal.post(url("goal_create"), _goal_form(**{"kr-0-target_value": "0"}))
    assert response.status_code == 200
    assert "target must differ" in response.content.decode()
    assert not DevelopmentGoal.objects.for_organization(organization).exists()


def test_a_goal_needs_at_least_one_key_result(portal, organization):
    response = portal.post(
        url("goal_create"), _goal_form(**{"kr-0-title": "", "kr-0-target_value": "", "kr-0-unit": ""})
    )
    assert response.status_code == 200
    assert "at least one key result" in response.content.decode()
    assert not DevelopmentGoal.objects.for_organization(organization).exists()


def test_editing_a_goal_changes_it_adds_and_removes_key_results(portal, goal, organization):
    first, second = goal.key_results.order_by("id")
    data = {
        "title": "Run two workshops",
        "why_it_matters": goal.why_it_matters,
        "target_date": "2026-10-01",
        "status": "behind",
        "visibility": "shared",
        "checkin_cadence_days": "7",
        "kr-TOTAL_FORMS": "3",
        "kr-INITIAL_FORMS": "2",
        "kr-MIN_NUM_FORMS": "0",
        "kr-MAX_NUM_FORMS": "1000",
        "kr-0-id": str(first.pk),
        "kr-0-title": "Workshops given",
        "kr-0-start_value": "0",
        "kr-0-target_value": "3",
        "kr-0-unit": "workshops",
        "kr-1-id": str(second.pk),
        "kr-1-title": second.title,
        "kr-1-start_value": "3",
        "kr-1-target_value": "4.5",
        "kr-1-unit": "points",
        "kr-1-DELETE": "on",
        "kr-2-title": "Founders coached in groups",
        "kr-2-start_value": "0",
        "kr-2-target_value": "20",
        "kr-2-unit": "founders",
    }
    response = portal.post(url("goal_edit", goal.pk), data)
    assert response.status_code == 302
    goal.refresh_from_db()
    assert (goal.title, goal.status, goal.visibility, goal.checkin_cadence_days) == (
        "Run two workshops",
        "behind",
        "shared",
        7,
    )
    assert list(goal.key_results.order_by("id").values_list("title", "target_value")) == [
        ("Workshops given", 3),
        ("Founders coached in groups", 20),
    ]


def test_a_bad_key_result_leaves_the_edited_goal_unchanged(portal, goal):
    first, second = goal.key_results.order_by("id")
    data = {
        "title": "Renamed",
        "status": "on_track",
        "visibility": "private",
        "checkin_cadence_days": "14",
        "kr-TOTAL_FORMS": "2",
        "kr-INITIAL_FORMS": "2",
        "kr-MIN_NUM_FORMS": "0",
        "kr-MAX_NUM_FORMS": "1000",
        "kr-0-id": str(first.pk),
        "kr-0-title": first.title,
        "kr-0-start_value": "1",
        "kr-0-target_value": "1",
        "kr-1-id": str(second.pk),
        "kr-1-title": second.title,
        "kr-1-start_value": "3",
        "kr-1-target_value": "4.5",
    }
    response = portal.post(url("goal_edit", goal.pk), data)
    assert response.status_code == 200
    goal.refresh_from_db()
    first.refresh_from_db()
    assert goal.title == "Run my first workshop" and first.target_value == 2


def test_a_key_result_of_another_goal_cannot_be_edited_through_this_goal(portal, goal, shared_goal):
    stranger = shared_goal.key_results.get()
    data = {
        "title": goal.title,
        "status": "on_track",
        "visibility": "private",
        "checkin_cadence_days": "14",
        "kr-TOTAL_FORMS": "1",
        "kr-INITIAL_FORMS": "1",
        "kr-MIN_NUM_FORMS": "0",
        "kr-MAX_NUM_FORMS": "1000",
        "kr-0-id": str(stranger.pk),
        "kr-0-title": "Hijacked",
        "kr-0-start_value": "0",
        "kr-0-target_value": "9",
    }
    portal.post(url("goal_edit", goal.pk), data)
    stranger.refresh_from_db()
    assert stranger.title == "Talks given"


def test_checking_in_updates_values_and_shows_the_progress_chart(portal, goal, organization):
    first, second = goal.key_results.order_by("id")
    response = portal.post(
        url("goal_check_in", goal.pk),
        {f"value_{first.pk}": "1", f"value_{second.pk}": "3.75", "confidence": "4", "status": "on_track", "note": "Ok"},
    )
    assert response.status_code == 302
    check_in = GoalCheckIn.objects.for_organization(organization).get()
    assert check_in.progress == 50
    detail = portal.get(url("goal_detail", goal.pk)).content.decode()
    assert "<polyline" in detail and "50%" in detail


def test_a_check_in_on_an_archived_goal_is_refused_with_a_message(portal, goal, organization):
    assert portal.post(url("goal_archive", goal.pk)).status_code == 302
    first = goal.key_results.order_by("id").first()
    response = portal.post(
        url("goal_check_in", goal.pk), {f"value_{first.pk}": "1", "confidence": "3", "status": "on_track"}, follow=True
    )
    assert "archived" in response.content.decode()
    assert not GoalCheckIn.objects.for_organization(organization).exists()
    first.refresh_from_db()
    assert first.current_value == 0


def test_archived_goals_are_hidden_until_asked_for_and_can_be_restored(portal, goal):
    portal.post(url("goal_archive", goal.pk))
    assert goal.title not in portal.get(url("goal_list")).content.decode()
    assert goal.title in portal.get(url("goal_list") + "?archived=1").content.decode()
    portal.post(url("goal_restore", goal.pk))
    goal.refresh_from_db()
    assert not goal.is_archived


def test_a_check_in_with_a_missing_confidence_is_a_form_error(portal, goal, organization):
    first = goal.key_results.order_by("id").first()
    response = portal.post(url("goal_check_in", goal.pk), {f"value_{first.pk}": "abc", "status": "on_track"})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() >= {"confidence", f"value_{first.pk}"}
    assert not GoalCheckIn.objects.for_organization(organization).exists()


def test_another_mentors_goal_is_not_found_on_any_goal_page(portal, organization, second_mentor):
    theirs = DevelopmentGoalFactory(mentor=second_mentor, visibility=DevelopmentGoal.Visibility.SHARED)
    for name in ("goal_detail", "goal_edit", "goal_check_in"):
        assert portal.get(url(name, theirs.pk)).status_code == 404, name
    for name in ("goal_archive", "goal_restore", "goal_check_in", "goal_edit"):
        assert portal.post(url(name, theirs.pk), {"confidence": "3", "title": "x"}).status_code == 404, name
    theirs.refresh_from_db()
    assert not theirs.is_archived and not GoalCheckIn.objects.for_organization(organization).exists()


def test_another_organizations_goal_is_not_found(portal, foreign_mentor):
    theirs = DevelopmentGoalFactory(mentor=foreign_mentor)
    for name in ("goal_detail", "goal_edit", "goal_check_in"):
        assert portal.get(url(name, theirs.pk)).status_code == 404, name
    assert portal.post(url("goal_archive", theirs.pk)).status_code == 404


def test_a_mentor_sees_only_their_own_goals_in_the_list(portal, goal, second_mentor):
    DevelopmentGoalFactory(mentor=second_mentor, title="Someone else's goal")
    content = portal.get(url("goal_list")).content.decode()
    assert goal.title in content and "Someone else's goal" not in content


# --- mentees and help requests ---------------------------------------------------------------------


def test_the_mentee_page_shows_milestones_check_ins_and_open_help_requests(
    portal, mentee, help_request, organization, run
):
    MilestoneFactory(run=run, name="Problem interviews", days_before_deadline=20, due_on=datetime.date(2026, 6, 5))
    CheckInFactory(enrollment=mentee, done="Interviewed five shop owners")
    content = portal.get(url("mentee_detail", mentee.pk)).content.decode()
    assert "Problem interviews" in content
    assert "Interviewed five shop owners" in content
    assert help_request.act in content


def test_replying_answers_the_help_request_and_records_the_response_time(
    portal, help_request, organization, portal_mentor, mentor_user
):
    response = portal.post(
        url("help_request_reply", help_request.pk),
        {"body": "Let's do a pricing experiment on Thursday.", "next": url("mentee_list")},
    )
    assert response.status_code == 302 and response["Location"] == url("mentee_list")
    help_request.refresh_from_db()
    assert help_request.status == HelpRequest.Status.ANSWERED
    assert help_request.first_response_at is not None
    reply = HelpRequestReply.objects.for_organization(organization).get()
    assert (reply.mentor, reply.author) == (portal_mentor, mentor_user)


def test_an_empty_reply_is_refused_with_a_message(portal, help_request, organization):
    response = portal.post(url("help_request_reply", help_request.pk), {"body": "   "}, follow=True)
    assert "Write a reply first" in response.content.decode()
    assert not HelpRequestReply.objects.for_organization(organization).exists()


def test_a_reply_never_redirects_off_site(portal, help_request):
    response = portal.post(url("help_request_reply", help_request.pk), {"body": "Hi", "next": "https://evil.example/"})
    assert response["Location"] == url("mentee_list")


def test_someone_elses_mentee_and_help_request_are_not_found(portal, organization, run, second_mentor):
    theirs = EnrollmentFactory(run=run)
    program_services.mentor_assign(organization=organization, run=run, mentor=second_mentor, enrollment=theirs)
    their_request = program_services.help_request_create(
        organization=organization, enrollment=theirs, act="Secret struggle", impact="b", desired_outcome="c"
    )
    assert portal.get(url("mentee_detail", theirs.pk)).status_code == 404
    assert portal.post(url("help_request_reply", their_request.pk), {"body": "Hi"}).status_code == 404
    assert not HelpRequestReply.objects.for_organization(organization).exists()
    assert "Secret struggle" not in portal.get(url("mentee_list")).content.decode()


def test_another_organizations_mentee_and_help_request_are_not_found(portal, other_enrollment, other_organization):
    their_request = program_services.help_request_create(
        organization=other_organization, enrollment=other_enrollment, act="a", impact="b", desired_outcome="c"
    )
    assert portal.get(url("mentee_detail", other_enrollment.pk)).status_code == 404
    assert portal.post(url("help_request_reply", their_request.pk), {"body": "Hi"}).status_code == 404


# --- sessions ----------------------------------------------------------------------------------------


def test_logging_a_session_from_the_portal(portal, mentee, organization, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = portal.post(
            url("session_create"),
            {
                "held_on": "2026-04-07",
                "duration_minutes": "50",
                "topics": "Willingness to pay",
                "notes": "Reviewed the survey.",
                "next_steps": "Run a fake-door test.",
                "attendees": [str(mentee.pk)],
            },
        )
    session = MentoringSession.objects.for_organization(organization).get()
    assert response.status_code == 302 and response["Location"] == url("session_detail", session.pk)
    assert list(session.attendees.all()) == [mentee]
    assert len(mail.outbox) == 1


def test_a_session_cannot_include_someone_elses_mentee(portal, run, organization):
    stranger = EnrollmentFactory(run=run)
    response = portal.post(
        url("session_create"), {"held_on": "2026-04-07", "duration_minutes": "50", "attendees": [str(stranger.pk)]}
    )
    assert response.status_code == 200 and response.context["form"].errors["attendees"]
    assert not MentoringSession.objects.for_organization(organization).exists()


def test_ratings_are_shown_to_the_mentor_without_names(portal, organization, run, portal_mentor, mentee):
    # Three raters: fewer would keep the session's ratings hidden (tests/mentors/test_rating_anonymity.py).
    present = [mentee, *(EnrollmentFactory(run=run) for _ in range(2))]
    for enrollment in present[1:]:
        program_services.mentor_assign(organization=organization, run=run, mentor=portal_mentor, enrollment=enrollment)
    session = services.session_log(
        organization=organization, mentor=portal_mentor, held_on=datetime.date(2026, 4, 7), attendees=present
    )
    services.session_rate(
        organization=organization, session=session, participant=mentee.participant, score=4, comment="Very concrete"
    )
    for enrollment in present[1:]:
        services.session_rate(organization=organization, session=session, participant=enrollment.participant, score=4)
    content = portal.get(url("session_list")).content.decode()
    assert "Very concrete" in content and "4 / 5" in content
    assert mentee.participant.name not in content.split("My ratings")[-1]


def test_someone_elses_session_is_not_found(portal, second_mentor, foreign_mentor):
    for session in (MentoringSessionFactory(mentor=second_mentor), MentoringSessionFactory(mentor=foreign_mentor)):
        assert portal.get(url("session_detail", session.pk)).status_code == 404


# --- approach ------------------------------------------------------------------------------------------


def test_the_mentor_describes_an_approach_beside_the_runs_essentials(portal, run, mentee, organization, portal_mentor):
    from mentors.models import RunMentoringEssentials

    RunMentoringEssentials.objects.create(
        organization=organization, run=run, essentials="Meet every mentee every two weeks\nLog every session"
    )
    page = portal.get(url("approach_edit", run.pk)).content.decode()
    assert "Log every session" in page
    response = portal.post(url("approach_edit", run.pk), {"format": "Walks", "cadence": "weekly", "focus": "Sales"})
    assert response.status_code == 302
    assert MentoringApproach.objects.for_organization(organization).get(mentor=portal_mentor).format == "Walks"


def test_no_approach_page_for_a_run_the_mentor_does_not_serve(portal, program, other_run):
    assert portal.get(url("approach_edit", RunFactory(program=program).pk)).status_code == 404
    assert portal.get(url("approach_edit", other_run.pk)).status_code == 404


def test_the_profile_is_saved(portal, portal_mentor):
    response = portal.post(
        url("profile"),
        {"bio": "Ex-founder", "motivation": "Learn", "expertise": "sales, hiring", "capacity": "2"},
    )
    assert response.status_code == 302
    portal_mentor.refresh_from_db()
    assert portal_mentor.expertise == ["sales", "hiring"] and portal_mentor.capacity == 2


# --- invitations ----------------------------------------------------------------------------------------


def _invitation(organization, email="fresh@example.com"):
    return services.invitation_create(organization=organization, email=email, language="en")


def test_accepting_an_invitation_sets_a_password_and_logs_in(client, organization):
    _invitation_row, token = _invitation(organization)
    page = url("invitation_accept", organization.slug, token)
    assert client.get(page).status_code == 200
    response = client.post(
        page, {"name": "Fresh Mentor", "password1": "a-long-unusual-pass-42", "password2": "a-long-unusual-pass-42"}
    )
    assert response.status_code == 302 and response["Location"] == url("profile")
    assert client.get(url("home")).status_code == 200
    assert client.session[ACTIVE_ORGANIZATION_SESSION_KEY] == organization.pk


def test_mismatched_passwords_are_a_form_error(client, organization):
    _invitation_row, token = _invitation(organization)
    response = client.post(
        url("invitation_accept", organization.slug, token),
        {"name": "X", "password1": "a-long-unusual-pass-42", "password2": "another-pass-43"},
    )
    assert response.status_code == 200 and response.context["form"].errors["password2"]
    assert not selectors.user_exists(email="fresh@example.com")


def test_a_logged_in_user_joins_with_their_account(admin_client_for, foreign_mentor, organization):
    _invitation_row, token = _invitation(organization, email="another.address@example.com")
    client = admin_client_for(foreign_mentor.user)
    page = client.get(url("invitation_accept", organization.slug, token)).content.decode()
    assert foreign_mentor.user.email in page
    assert client.post(url("invitation_accept", organization.slug, token)).status_code == 302
    assert selectors.mentor_for_user(organization=organization, user=foreign_mentor.user) is not None


def test_an_existing_account_is_asked_to_log_in(client, organization, foreign_mentor):
    _invitation_row, token = _invitation(organization, email=foreign_mentor.user.email)
    response = client.get(url("invitation_accept", organization.slug, token))
    assert response.context["account_exists"] is True
    response = client.post(
        url("invitation_accept", organization.slug, token),
        {"name": "X", "password1": "a-long-unusual-pass-42", "password2": "a-long-unusual-pass-42"},
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_a_used_link_shows_a_clear_page(client, organization):
    _invitation_row, token = _invitation(organization)
    services.invitation_accept(organization=organization, token=token, password="a-long-unusual-pass-42")
    response = client.get(url("invitation_accept", organization.slug, token))
    assert response.status_code == 410 and "already been used" in response.content.decode()


def test_an_expired_link_shows_a_clear_page(client, organization):
    invitation, token = _invitation(organization)
    invitation.expires_at = timezone.now() - datetime.timedelta(seconds=1)
    invitation.save()
    response = client.post(
        url("invitation_accept", organization.slug, token),
        {"name": "X", "password1": "a-long-unusual-pass-42", "password2": "a-long-unusual-pass-42"},
    )
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert not selectors.user_exists(email="fresh@example.com")


def test_a_link_under_another_organizations_slug_is_not_valid(client, organization, other_organization):
    _invitation_row, token = _invitation(organization)
    assert client.get(url("invitation_accept", other_organization.slug, token)).status_code == 404
    assert client.get(url("invitation_accept", "no-such-org", token)).status_code == 404


# --- session rating links -------------------------------------------------------------------------------


def test_a_mentee_rates_a_session_through_the_signed_link(client, organization, portal_mentor, mentee):
    session = services.session_log(
        organization=organization, mentor=portal_mentor, held_on=datetime.date(2026, 4, 7), attendees=[mentee]
    )
    token = links.session_rating_token(session=session, participant=mentee.participant)
    assert client.get(url("session_rate", token)).status_code == 200
    response = client.post(url("session_rate", token), {"score": "5", "comment": "Exactly what I needed"})
    # The mentee's page speaks the mentee's language (Korean here).
    assert response.status_code == 200 and "감사합니다" in response.content.decode()
    rating = SessionRating.objects.for_organization(organization).get()
    assert (rating.score, rating.participant) == (5, mentee.participant)


def test_a_tampered_or_foreign_rating_link_is_refused(client, organization, portal_mentor, mentee):
    session = services.session_log(
        organization=organization, mentor=portal_mentor, held_on=datetime.date(2026, 4, 7), attendees=[mentee]
    )
    token = links.session_rating_token(session=session, participant=mentee.participant)
    assert client.get(url("session_rate", token[:-2] + "xx")).status_code == 404
    assert client.post(url("session_rate", "garbage"), {"score": "5"}).status_code == 404
    assert not SessionRating.objects.for_organization(organization).exists()


def test_an_out_of_range_score_is_a_form_error(client, organization, portal_mentor, mentee):
    session = services.session_log(
        organization=organization, mentor=portal_mentor, held_on=datetime.date(2026, 4, 7), attendees=[mentee]
    )
    token = links.session_rating_token(session=session, participant=mentee.participant)
    response = client.post(url("session_rate", token), {"score": "9"})
    assert response.status_code == 200 and response.context["form"].errors["score"]
    assert not SessionRating.objects.for_organization(organization).exists()


def test_optional_url_is_empty_for_pages_that_do_not_exist():
    from mentors.templatetags.mentor_portal import optional_url, percent_width

    assert optional_url("assessments:no_such_page") == ""
    assert optional_url("mentors:goal_detail", 7) == "/mentor/goals/7/"
    assert (percent_width(130), percent_width("x"), percent_width(42)) == ("100%", "0%", "42%")

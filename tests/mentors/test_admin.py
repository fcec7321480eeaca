"""Admin pages of the mentors app: what PMs see, and what they never see."""

import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mentors import services
from mentors.models import DevelopmentGoal, MentorInvitation, RunMentoringEssentials
from tests.factories.mentors import DevelopmentGoalFactory, KeyResultFactory, MentorFactory, MentoringSessionFactory


@pytest.fixture
def pm_client(admin_client_for, program_manager):
    return admin_client_for(program_manager)


def admin_url(model, action="changelist", *args):
    return reverse(f"admin:mentors_{model}_{action}", args=args)


def test_pms_see_shared_goals_but_never_private_ones(pm_client, goal, shared_goal):
    content = pm_client.get(admin_url("developmentgoal")).content.decode()
    assert shared_goal.title in content
    assert goal.title not in content
    assert pm_client.get(admin_url("developmentgoal", "change", shared_goal.pk)).status_code == 200
    assert pm_client.get(admin_url("developmentgoal", "change", goal.pk)).status_code == 404


def test_not_even_a_superuser_opens_a_private_goal(admin_client_for, superuser, goal):
    assert admin_client_for(superuser).get(admin_url("developmentgoal", "change", goal.pk)).status_code == 404


def test_goals_are_read_only_for_pms(pm_client, shared_goal):
    response = pm_client.post(admin_url("developmentgoal", "change", shared_goal.pk), {"title": "Changed by PM"})
    assert response.status_code == 403
    shared_goal.refresh_from_db()
    assert shared_goal.title == "Speak at a founder conference"


def test_another_organizations_rows_are_not_found(pm_client, foreign_mentor):
    foreign_goal = DevelopmentGoalFactory(mentor=foreign_mentor, visibility=DevelopmentGoal.Visibility.SHARED)
    foreign_session = MentoringSessionFactory(mentor=foreign_mentor)
    invitation, _token = services.invitation_create(organization=foreign_mentor.organization, email="x@example.com")
    assert pm_client.get(admin_url("mentor", "change", foreign_mentor.pk)).status_code == 404
    assert pm_client.get(admin_url("developmentgoal", "change", foreign_goal.pk)).status_code == 404
    assert pm_client.get(admin_url("mentoringsession", "change", foreign_session.pk)).status_code == 404
    assert pm_client.get(admin_url("mentorinvitation", "change", invitation.pk)).status_code == 404
    assert foreign_mentor.user.email not in pm_client.get(admin_url("mentor")).content.decode()


def test_a_pm_invites_a_mentor_from_the_admin(pm_client, organization, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = pm_client.post(
            admin_url("mentorinvitation", "add"),
            {"email": "Coach@Example.com", "name": "Coach", "language": "en", "message": "Join us!"},
        )
    assert response.status_code == 302
    invitation = MentorInvitation.objects.for_organization(organization).get()
    assert invitation.email == "coach@example.com" and invitation.state == "pending"
    assert len(mail.outbox) == 1 and "Join us!" in mail.outbox[0].body


def test_inviting_an_active_mentor_is_a_form_error(pm_client, organization, portal_mentor):
    response = pm_client.post(
        admin_url("mentorinvitation", "add"), {"email": portal_mentor.user.email, "name": "", "language": "ko"}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["email"]
    assert not MentorInvitation.objects.for_organization(organization).exists()


def test_resending_makes_a_new_link(pm_client, organization, django_capture_on_commit_callbacks):
    first, _token = services.invitation_create(organization=organization, email="late@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        pm_client.post(
            admin_url("mentorinvitation"), {"action": "resend_invitations", "_selected_action": [str(first.pk)]}
        )
    assert MentorInvitation.objects.for_organization(organization).count() == 2
    first.refresh_from_db()
    assert first.state == "expired"


def test_the_activity_report_counts_sessions_per_month(pm_client, organization, portal_mentor, second_mentor):
    today = datetime.date.today()
    MentoringSessionFactory(mentor=portal_mentor, held_on=today)
    MentoringSessionFactory(mentor=portal_mentor, held_on=today)
    MentoringSessionFactory(mentor=second_mentor, held_on=today - datetime.timedelta(days=400))
    response = pm_client.get(reverse("admin:mentors_mentor_activity"))
    assert response.status_code == 200
    rows = {row["mentor"].pk: row["total"] for row in response.context["table"]}
    assert rows == {portal_mentor.pk: 2, second_mentor.pk: 0}


def test_viewers_see_the_activity_report_but_mentors_do_not(admin_client_for, viewer, mentor_user, portal_mentor):
    assert admin_client_for(viewer).get(reverse("admin:mentors_mentor_activity")).status_code == 200
    assert admin_client_for(mentor_user).get(reverse("admin:mentors_mentor_activity")).status_code == 302


def test_pms_fix_the_essentials_of_a_run(pm_client, organization, run):
    response = pm_client.post(
        admin_url("runmentoringessentials", "add"), {"run": run.pk, "essentials": "Meet every two weeks"}
    )
    assert response.status_code == 302
    assert RunMentoringEssentials.objects.for_organization(organization).get().run == run


def test_essentials_cannot_point_at_another_organizations_run(pm_client, organization, other_run):
    response = pm_client.post(admin_url("runmentoringessentials", "add"), {"run": other_run.pk, "essentials": "x"})
    assert response.status_code == 200
    assert not RunMentoringEssentials.objects.for_organization(organization).exists()


def test_pms_cannot_add_mentors_by_picking_any_account(pm_client):
    assert pm_client.get(admin_url("mentor", "add")).status_code == 403


@pytest.mark.parametrize("model", ["mentor", "developmentgoal", "mentoringsession", "mentorinvitation"])
def test_changelists_do_not_grow_queries_with_rows(pm_client, organization, model):
    def make_rows(n):
        for _ in range(n):
            mentor = MentorFactory(organization=organization)
            goal = DevelopmentGoalFactory(mentor=mentor, visibility=DevelopmentGoal.Visibility.SHARED)
            KeyResultFactory(goal=goal)
            MentoringSessionFactory(mentor=mentor)
            services.invitation_create(organization=organization, email=f"{mentor.user.email}.invite")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert pm_client.get(admin_url(model)).status_code == 200
        return len(queries)

    make_rows(2)
    few = count()
    make_rows(5)
    assert count() == few

"""Matching pages: the PM's review in the admin, the mentor's profile, the participant's choices."""

import pytest
from django.urls import reverse

from matching import selectors, services
from matching.models import Conflict, Proposal, ProposedPair
from programs import links
from programs.models import MentorAssignment
from tests.factories.matching import ProposalFactory
from tests.factories.mentors import DevelopmentGoalFactory, MentorFactory
from tests.factories.programs import EnrollmentFactory, ProgramsMentorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cohort(organization, run):
    mentors = [ProgramsMentorFactory(organization=organization, capacity=1) for _ in range(2)]
    founders = [EnrollmentFactory(run=run) for _ in range(2)]
    return mentors, founders


def _pairs(proposal):
    return {
        p.enrollment_id: p
        for p in ProposedPair.objects.for_organization(proposal.organization).filter(proposal=proposal)
    }


def test_a_program_manager_proposes_reviews_and_accepts_in_the_admin(
    organization, run, program_manager, admin_client_for, cohort
):
    mentors, founders = cohort
    client = admin_client_for(program_manager)
    assert client.get(reverse("admin:matching_proposal_add")).status_code == 200
    response = client.post(reverse("admin:matching_proposal_add"), {"run": run.pk})
    proposal = Proposal.objects.for_organization(organization).get()
    assert response.url == reverse("admin:matching_proposal_review", args=[proposal.pk])

    page = client.get(response.url)
    assert page.status_code == 200
    assert all(str(f) in page.content.decode() for f in founders)
    pairs = _pairs(proposal)

    # Swap the two mentors, then accept one pair, then all.
    client.post(response.url, {"action": "swap", "pair": pairs[founders[0].pk].pk, "other": pairs[founders[1].pk].pk})
    swapped = _pairs(proposal)
    assert swapped[founders[0].pk].mentor == pairs[founders[1].pk].mentor
    client.post(response.url, {"action": "accept", "pair": swapped[founders[0].pk].pk})
    assert MentorAssignment.objects.for_organization(organization).filter(enrollment=founders[0]).count() == 1
    client.post(response.url, {"action": "accept_all"})
    assert (
        MentorAssignment.objects.for_organization(organization).filter(run=run, enrollment__isnull=False).count() == 2
    )
    assert client.get(response.url).content.decode().count('class="accepted"') == 2


def test_a_refused_change_is_a_message_not_an_error_page(organization, run, program_manager, admin_client_for, cohort):
    mentors, founders = cohort
    proposal = services.proposal_create(organization=organization, run=run)
    pair = _pairs(proposal)[founders[0].pk]
    full = next(m for m in mentors if m != pair.mentor)
    client = admin_client_for(program_manager)
    url = reverse("admin:matching_proposal_review", args=[proposal.pk])
    response = client.post(url, {"action": "change", "pair": pair.pk, "mentor": full.pk}, follow=True)
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert _pairs(proposal)[founders[0].pk].mentor == pair.mentor
    assert client.post(url, {"action": "accept", "pair": "x"}).status_code == 404


def test_another_organizations_proposal_is_404_in_the_admin(organization, program_manager, admin_client_for, other_run):
    proposal = ProposalFactory(run=other_run)
    client = admin_client_for(program_manager)
    url = reverse("admin:matching_proposal_review", args=[proposal.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "accept_all"}).status_code == 404
    assert client.post(reverse("admin:matching_proposal_add"), {"run": other_run.pk}).status_code == 200  # form error
    assert not Proposal.objects.for_organization(other_run.organization).exclude(pk=proposal.pk).exists()


def test_a_viewer_reads_the_review_but_cannot_act(organization, run, viewer, admin_client_for, cohort):
    proposal = services.proposal_create(organization=organization, run=run)
    client = admin_client_for(viewer)
    url = reverse("admin:matching_proposal_review", args=[proposal.pk])
    page = client.get(url)
    assert page.status_code == 200 and b'name="action"' not in page.content
    assert client.post(url, {"action": "accept_all"}).status_code == 404
    assert not MentorAssignment.objects.for_organization(organization).exists()


def test_a_conflict_marked_in_the_admin_goes_through_the_service(
    organization, program_manager, admin_client_for, cohort
):
    mentors, founders = cohort
    client = admin_client_for(program_manager)
    response = client.post(
        reverse("admin:matching_conflict_add"),
        {"mentor": mentors[0].pk, "enrollment": founders[0].pk, "note": " Cousin "},
    )
    assert response.status_code == 302
    assert Conflict.objects.for_organization(organization).get().note == "Cousin"


# --- the mentor's matching profile -----------------------------------------------------------


@pytest.fixture
def portal(admin_client_for, mentor_user, portal_mentor):
    return admin_client_for(mentor_user)


def test_a_mentor_edits_their_matching_profile_and_sees_their_goals(portal, portal_mentor):
    DevelopmentGoalFactory(
        mentor=portal_mentor, title="Coach on pricing", practice_areas=["pricing"], visibility="shared"
    )
    url = reverse("matching_portal:matching_profile")
    page = portal.get(url)
    assert page.status_code == 200 and "Coach on pricing" in page.content.decode()
    response = portal.post(
        url, {"expertise_areas": ["sales", "pricing"], "industries": ["b2b_saas"], "languages": ["ko", "en"]}
    )
    assert response.status_code == 302
    portal_mentor.refresh_from_db()
    assert portal_mentor.expertise_areas == ["pricing", "sales"]
    assert (
        portal_mentor.industries == ["b2b_saas"]
        and portal_mentor.stages == []
        and portal_mentor.languages == ["ko", "en"]
    )


def test_an_unknown_area_is_a_form_error_and_nothing_is_saved(portal, portal_mentor):
    response = portal.post(reverse("matching_portal:matching_profile"), {"expertise_areas": ["astrology"]})
    assert response.status_code == 200 and response.context["form"].errors["expertise_areas"]
    portal_mentor.refresh_from_db()
    assert portal_mentor.expertise_areas == []


def test_someone_who_is_not_a_mentor_here_gets_no_matching_profile(admin_client_for, other_program_manager):
    response = admin_client_for(other_program_manager).get(reverse("matching_portal:matching_profile"))
    assert response.status_code == 403


# --- the participant's needs and choices -----------------------------------------------------


def _url(enrollment, purpose=links.PURPOSE_HOME):
    return reverse("matching:participant_preferences", args=[links.participant_token(enrollment, purpose)])


def test_a_participant_states_needs_and_ranked_choices(client, organization, enrollment, cohort):
    mentors, _founders = cohort
    url = _url(enrollment)
    page = client.get(url + "?lang=en")
    assert page.status_code == 200 and str(mentors[0]) in page.content.decode()
    response = client.post(
        url,
        {
            "needs": ["pricing"],
            "industry": "fintech",
            "stage": "mvp",
            "mentor_wish": "Someone who sold to banks",
            "choice_1": str(mentors[1].pk),
            "choice_2": str(mentors[0].pk),
        },
    )
    assert response.status_code == 302 and "saved=1" in response.url
    enrollment.refresh_from_db()
    assert (enrollment.needs, enrollment.industry, enrollment.stage) == (["pricing"], "fintech", "mvp")
    assert selectors.participant_choices(organization=organization, enrollment=enrollment) == [mentors[1], mentors[0]]


def test_the_same_mentor_twice_is_a_form_error_and_nothing_is_saved(client, organization, enrollment, cohort):
    mentors, _ = cohort
    response = client.post(
        _url(enrollment), {"needs": ["sales"], "choice_1": str(mentors[0].pk), "choice_2": str(mentors[0].pk)}
    )
    assert response.status_code == 200 and response.context["form"].errors["choice_2"]
    enrollment.refresh_from_db()
    assert enrollment.needs == []


def test_another_organizations_mentor_cannot_be_chosen(client, organization, enrollment, other_program_mentor):
    response = client.post(_url(enrollment), {"choice_1": str(other_program_mentor.pk)})
    assert response.status_code == 200 and response.context["form"].errors["choice_1"]
    assert selectors.participant_choices(organization=organization, enrollment=enrollment) == []


def test_only_a_home_link_opens_the_page(client, enrollment):
    assert client.get(_url(enrollment, links.PURPOSE_CHECK_IN)).status_code == 403
    assert client.get(reverse("matching:participant_preferences", args=["not-a-token"])).status_code == 400


def test_the_participant_home_links_to_the_page(client, enrollment):
    home = client.get(reverse("programs:participant", args=[links.participant_token(enrollment)]))
    assert home.status_code == 200
    assert reverse("matching:participant_preferences", args=["X"]).split("X")[0] in home.content.decode()


def test_a_mentor_of_another_organization_is_not_listed(client, enrollment, other_organization):
    stranger = MentorFactory(organization=other_organization)
    page = client.get(_url(enrollment))
    assert str(stranger) not in page.content.decode()

"""Participants act through signed, expiring links, in Korean or English, without an account."""

import time

import pytest
from django.urls import reverse

from programs import links
from programs.models import CheckIn, HelpRequest, MilestoneProgress
from tests.factories.programs import EnrollmentFactory, MilestoneFactory


def test_the_home_link_shows_the_participants_own_milestones(client, enrollment):
    milestone = MilestoneFactory(run=enrollment.run, name="인터뷰 20건")
    response = client.get(links.participant_link(enrollment))
    assert response.status_code == 200
    body = response.content.decode()
    assert "인터뷰 20건" in body
    assert f"D-{milestone.days_before_deadline}" in body
    assert response["Content-Language"] == "ko"
    assert "체크인" in body  # the participant's language is Korean


def test_lang_parameter_switches_to_english(client, enrollment):
    response = client.get(links.participant_link(enrollment, lang="en"))
    assert "Check in" in response.content.decode()
    assert response["Content-Language"] == "en"


def test_a_participant_submits_a_check_in(client, enrollment):
    url = links.participant_link(enrollment, links.PURPOSE_CHECK_IN)
    response = client.post(url, {"done": "고객 인터뷰 5건", "next": "랜딩 페이지", "blockers": "", "confidence": "4"})
    assert response.status_code == 302
    check_in = CheckIn.objects.for_organization(enrollment.organization).get()
    assert (check_in.enrollment, check_in.confidence) == (enrollment, 4)
    enrollment.refresh_from_db()
    assert enrollment.last_contact_at is not None
    assert "saved=1" in response["Location"]


def test_an_empty_check_in_gets_a_form_error_and_saves_nothing(client, enrollment):
    url = links.participant_link(enrollment, links.PURPOSE_CHECK_IN, lang="en")
    response = client.post(url, {"done": "", "confidence": "9"})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not CheckIn.objects.for_organization(enrollment.organization).exists()


def test_a_participant_asks_for_help_in_aid_form(client, enrollment):
    url = links.participant_link(enrollment, links.PURPOSE_HELP)
    response = client.post(url, {"act": "가격 테스트", "impact": "전환 0", "desired_outcome": "원인 분리"})
    assert response.status_code == 302
    assert HelpRequest.objects.for_organization(enrollment.organization).get().act == "가격 테스트"


def test_a_participant_updates_milestone_progress_with_evidence(client, enrollment):
    milestone = MilestoneFactory(run=enrollment.run)
    url = links.participant_link(enrollment, links.PURPOSE_PROGRESS)
    response = client.post(
        url, {"milestone": milestone.pk, "status": "submitted", "evidence_url": "https://docs.example/x", "note": ""}
    )
    assert response.status_code == 302
    progress = MilestoneProgress.objects.for_organization(enrollment.organization).get()
    assert (progress.status, progress.evidence_url) == ("submitted", "https://docs.example/x")


def test_a_link_cannot_touch_another_enrollments_milestone(client, enrollment, other_enrollment):
    foreign = MilestoneFactory(run=other_enrollment.run)
    other_run_same_org = MilestoneFactory(run=EnrollmentFactory(run__program=enrollment.run.program).run)
    url = links.participant_link(enrollment, links.PURPOSE_PROGRESS, lang="en")
    for milestone in (foreign, other_run_same_org):
        response = client.post(url, {"milestone": milestone.pk, "status": "done"})
        assert response.status_code == 200
        assert "not part of your program" in response.content.decode()
    assert not MilestoneProgress.objects.dangerously_all_organizations().exists()


def test_a_purpose_link_opens_only_its_own_page(client, enrollment):
    token = links.participant_token(enrollment, links.PURPOSE_CHECK_IN)
    assert client.get(reverse("programs:participant_check_in", args=[token])).status_code == 200
    response = client.post(
        reverse("programs:participant_help", args=[token]), {"act": "a", "impact": "b", "desired_outcome": "c"}
    )
    assert response.status_code == 403
    assert not HelpRequest.objects.for_organization(enrollment.organization).exists()


def test_an_expired_link_gets_a_clear_page(client, enrollment):
    token = links.participant_token(enrollment, valid_days=1, now=time.time() - 2 * 86400)
    response = client.get(reverse("programs:participant", args=[token]) + "?lang=en")
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()


@pytest.mark.parametrize("mangle", [lambda t: t[:-2] + "xx", lambda t: "x" + t[1:], lambda t: "garbage"])
def test_an_altered_link_gets_a_clear_page(client, enrollment, mangle):
    token = mangle(links.participant_token(enrollment))
    response = client.get(reverse("programs:participant", args=[token]) + "?lang=ko")
    assert response.status_code == 400
    assert "유효하지 않" in response.content.decode()


def test_a_link_for_a_dropped_enrollment_says_so(client, enrollment):
    enrollment.status = "dropped"
    enrollment.save()
    response = client.get(links.participant_link(enrollment, lang="en"))
    assert response.status_code == 410
    assert "no longer active" in response.content.decode()


def test_a_link_built_by_hand_for_another_organization_fails(client, enrollment, other_enrollment):
    """A token signed for one enrollment cannot be rewritten to point at another."""
    from django.core import signing

    token = links.participant_token(enrollment)
    payload = signing.loads(token, salt=links.SALT)
    payload["e"] = other_enrollment.pk
    forged = signing.dumps(payload, salt="another-salt", compress=True)
    assert client.get(reverse("programs:participant", args=[forged])).status_code == 400


def test_participant_link_builds_absolute_urls_for_emails(enrollment):
    url = links.participant_link(enrollment, links.PURPOSE_HELP, base_url="https://cohorts.example/", lang="en")
    assert url.startswith("https://cohorts.example/p/") and url.endswith("?lang=en")
    with pytest.raises(ValueError):
        links.participant_link(enrollment, "delete_everything")

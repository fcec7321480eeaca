"""Mentor matching in headless Chromium, in Korean and in English, against a live server.

* a program manager proposes mentors for a run in the admin, reads the pairs side by side
  with their reasons, swaps two, accepts one and then all (the assignments exist);
* a mentor ticks their matching profile in the portal on a phone;
* a founder opens "finding my mentor" from their home link on a phone and states needs
  and ranked choices.

Korean texts of this feature are asserted through ``korean(msgid)``: our Korean once the
coordinator merged /tmp/ko/match.tsv, the English msgid until then (the page shows the
same fallback); Django's own Korean and ``<html lang>`` are asserted as they are.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from core.models import Membership
from matching.models import Preference, Proposal
from mentors.models import Mentor
from programs import links
from programs.models import MentorAssignment
from tests.factories.core import MembershipFactory, OrganizationFactory, UserFactory
from tests.factories.mentors import DevelopmentGoalFactory, MentorFactory
from tests.factories.programs import EnrollmentFactory, ParticipantFactory, ProgramFactory, RunFactory
from tests.fixtures.browser import DESKTOP

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
PASSWORD = "matching-pass-for-browser-tests"


def say(language: str, msgid: str, **values) -> str:
    with translation.override(language):
        text = translation.gettext(msgid)
    return text % values if values else text


def _user(email, name, language):
    user = UserFactory(email=email, name=name, language=language)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def cohort(transactional_db):
    organization = OrganizationFactory(name="한빛창업학교", slug="hanbit-matching")
    run = RunFactory(program=ProgramFactory(organization=organization, name="고객 발견 부트캠프"), name="12기")
    pricing = MentorFactory(
        organization=organization,
        user=UserFactory(email="pricing@hanbit.test", name="박서준"),
        capacity=2,
        expertise_areas=["sales"],
        industries=["b2b_saas"],
        languages=["ko", "en"],
    )
    DevelopmentGoalFactory(mentor=pricing, title="가격 코칭 연습", visibility="shared", practice_areas=["pricing"])
    legal = MentorFactory(
        organization=organization,
        user=UserFactory(email="legal@hanbit.test", name="최유나"),
        capacity=2,
        expertise_areas=["legal"],
        industries=["health"],
    )
    founders = [
        EnrollmentFactory(
            run=run,
            participant=ParticipantFactory(organization=organization, name=name, language="ko"),
            needs=needs,
            industry=industry,
        )
        for name, needs, industry in (
            ("김민지", ["pricing", "sales"], "b2b_saas"),
            ("이준호", ["legal"], "health"),
        )
    ]
    return {"organization": organization, "run": run, "mentors": (pricing, legal), "founders": founders}


def _log_in_admin(page, url, email):
    page.goto(f"{url}/admin/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{url}/admin/")


@pytest.mark.parametrize("language", ["ko", "en"])
def test_a_program_manager_proposes_swaps_and_accepts(cohort, live_server, browser_for, language):
    organization, run = cohort["organization"], cohort["run"]
    pricing, legal = cohort["mentors"]
    minji, junho = cohort["founders"]
    email = f"pm.{language}@hanbit.test"
    MembershipFactory(
        organization=organization, user=_user(email, "이서연", language), role=Membership.Role.PROGRAM_MANAGER
    )
    url = live_server.url
    with browser_for(f"matching-pm-{language}") as browser:
        page = browser.page(viewport=DESKTOP, locale="ko-KR" if language == "ko" else "en-US")
        _log_in_admin(page, url, email)
        page.goto(f"{url}{reverse('admin:matching_proposal_add')}")
        assert page.locator("html").get_attribute("lang") == language
        page.select_option("select[name=run]", str(run.pk))
        page.click("#propose-form input[type=submit]")
        proposal = Proposal.objects.for_organization(organization).get()
        page.wait_for_url(f"{url}{reverse('admin:matching_proposal_review', args=[proposal.pk])}")
        rows = page.locator("#pairs tbody tr")
        assert rows.count() == 2
        pair_ids = dict(proposal.pairs.values_list("enrollment_id", "id"))
        minji_row, junho_row = page.locator(f"#pair-{pair_ids[minji.pk]}"), page.locator(f"#pair-{pair_ids[junho.pk]}")
        assert minji_row.locator("td").first.inner_text().strip() == "김민지"
        assert minji_row.locator("td.mentor").inner_text().strip() == "박서준"
        reasons = minji_row.locator("ul.reasons").inner_text()
        assert say(language, "both: %(industry)s", industry=say(language, "B2B SaaS")) in reasons
        assert "가격 코칭 연습" in reasons  # the mentor's shared goal, in the mentor's words
        with translation.override(language):
            seats = translation.ngettext(
                "%(free)d of %(capacity)d seat free", "%(free)d of %(capacity)d seats free", 2
            ) % {"free": 2, "capacity": 2}
        assert seats in reasons
        browser.shot(page, "01-review")

        # Swap the two mentors, then swap back: the table follows.
        minji_row.locator("form.swap input[type=submit]").click()
        page.wait_for_load_state()
        assert minji_row.locator("td.mentor").inner_text().strip() == "최유나"
        minji_row.locator("form.swap input[type=submit]").click()
        page.wait_for_load_state()
        # Accept one, then all.
        minji_row.locator("form.accept-one input[type=submit]").click()
        page.wait_for_load_state()
        assert minji_row.locator(".accepted").is_visible()
        page.click("#accept-all input[type=submit]")
        page.wait_for_load_state()
        assert page.locator("#pairs .accepted").count() == 2
        assert say(language, "Accepted") in junho_row.inner_text()
        browser.shot(page, "02-accepted")
    assignments = MentorAssignment.objects.for_organization(organization).filter(run=run)
    assert {(a.enrollment_id, a.mentor_id) for a in assignments} == {(minji.pk, pricing.pk), (junho.pk, legal.pk)}


@pytest.mark.parametrize("language", ["ko", "en"])
def test_a_mentor_fills_in_their_matching_profile_on_a_phone(cohort, live_server, browser_for, language):
    organization = cohort["organization"]
    user = _user(f"mentor.{language}@hanbit.test", "정하늘", language)
    mentor = MentorFactory(organization=organization, user=user)
    DevelopmentGoalFactory(mentor=mentor, title="Coaching first-time founders", practice_areas=["team"])
    url = live_server.url
    with browser_for(f"matching-mentor-{language}") as browser:
        page = browser.page()
        page.goto(f"{url}/mentor/login/")
        page.fill("input[name=username]", user.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/mentor/")
        page.click(f"nav.portal-nav >> text={say(language, 'Matching')}")
        page.wait_for_url(f"{url}{reverse('matching_portal:matching_profile')}")
        assert page.locator("html").get_attribute("lang") == language
        assert page.locator("h1").inner_text() == say(language, "My matching profile")
        assert "Coaching first-time founders" in page.locator(".goal-row").inner_text()
        page.check(f"label:has-text('{say(language, 'Pricing')}') input")
        page.check(f"label:has-text('{say(language, 'Fintech')}') input")
        page.check(f"label:has-text('{say(language, 'Idea')}') input")
        page.check(f"#id_languages label:has-text('{say(language, 'English')}') input")
        browser.shot(page, "01-profile")
        page.click("#matching-profile button[type=submit]")
        page.wait_for_load_state()
        assert page.locator(".messages").inner_text().strip() == say(language, "Your matching profile is saved.")
        assert page.locator(f"label:has-text('{say(language, 'Pricing')}') input").is_checked()
    mentor = Mentor.objects.for_organization(organization).get(pk=mentor.pk)
    assert (mentor.expertise_areas, mentor.industries, mentor.stages, mentor.languages) == (
        ["pricing"],
        ["fintech"],
        ["idea"],
        ["en"],
    )


@pytest.mark.parametrize("language", ["ko", "en"])
def test_a_founder_states_needs_and_ranked_choices_from_their_home_link(cohort, live_server, browser_for, language):
    organization = cohort["organization"]
    pricing, legal = cohort["mentors"]
    minji = cohort["founders"][0]
    home = f"{live_server.url}{reverse('programs:participant', args=[links.participant_token(minji)])}?lang={language}"
    with browser_for(f"matching-founder-{language}") as browser:
        page = browser.page()
        page.goto(home)
        page.click("#my-mentor a.button")
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == language
        assert page.locator("h1").inner_text() == say(language, "Finding my mentor")
        page.check(f"label:has-text('{say(language, 'Fundraising and investors')}') input")
        page.select_option("select[name=stage]", "mvp")
        page.fill("textarea[name=mentor_wish]", "은행에 팔아 본 분")
        page.select_option("select[name=choice_1]", str(legal.pk))
        page.select_option("select[name=choice_2]", str(pricing.pk))
        browser.shot(page, "01-preferences")
        page.click("#preferences button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("#saved").inner_text().strip() == say(
            language, "Saved. The program team will propose a mentor with this in mind."
        )
        assert page.locator("select[name=choice_1]").input_value() == str(legal.pk)
        browser.shot(page, "02-saved")
    minji.refresh_from_db()
    assert minji.needs == ["pricing", "sales", "fundraising"]  # in the vocabulary's order and minji.stage == "mvp"
    ranks = Preference.objects.for_organization(organization).filter(enrollment=minji).order_by("rank")
    assert [p.mentor_id for p in ranks] == [legal.pk, pricing.pk]


@pytest.mark.parametrize("language", ["ko", "en"])
def test_a_mentor_ranks_two_mentees_on_a_phone(cohort, live_server, browser_for, language):
    def chosen(count):
        with translation.override(language):
            return translation.ngettext("%(count)s chosen", "%(count)s chosen", count) % {"count": count}

    organization, run = cohort["organization"], cohort["run"]
    minji, junho = cohort["founders"]
    user = _user(f"ranking.mentor.{language}@hanbit.test", "정하늘", language)
    mentor = MentorFactory(organization=organization, user=user)
    url = live_server.url
    with browser_for(f"matching-mentor-ranks-{language}") as browser:
        page = browser.page(locale="ko-KR" if language == "ko" else "en-US")
        page.goto(f"{url}/mentor/login/")
        page.fill("input[name=username]", user.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/mentor/")
        page.click(f"nav.portal-nav >> text={say(language, 'Matching')}")
        page.wait_for_url(f"{url}{reverse('matching_portal:matching_profile')}")
        run_card = page.locator(f"#run-{run.pk}")
        assert chosen(0) in run_card.inner_text()
        run_card.locator("a.button").click()
        page.wait_for_url(f"{url}{reverse('matching_portal:mentee_preferences', args=[run.pk])}")
        assert page.locator("h1").inner_text() == say(language, "Mentees I would like")
        assert page.locator("nav.portal-nav a.active").inner_text() == say(language, "Matching")
        assert say(language, "You have not chosen anyone in this run yet.") in page.locator("#my-choices").inner_text()
        assert say(language, "Pricing") in page.locator(f"#mentee-{minji.pk}").inner_text()  # what the founder needs
        page.select_option("select[name=choice_1]", str(junho.pk))
        page.select_option("select[name=choice_2]", str(minji.pk))
        browser.shot(page, "01-ranking")
        page.click("#mentee-preferences button[type=submit]")
        page.wait_for_load_state()
        assert page.locator(".messages").inner_text().strip() == say(language, "Your choices for this run are saved.")
        assert page.locator("#my-choices ol li").all_inner_texts() == ["이준호", "김민지"]
        assert page.locator("select[name=choice_1]").input_value() == str(junho.pk)
        assert page.locator("select[name=choice_2]").input_value() == str(minji.pk)
        assert page.locator("select[name=choice_3]").input_value() == ""
        browser.shot(page, "02-saved")

        # Choosing the same founder twice is refused on the page, and the saved choices stay.
        page.select_option("select[name=choice_3]", str(junho.pk))
        page.click("#mentee-preferences button[type=submit]")
        page.wait_for_load_state()
        assert page.locator(".field.has-error .errorlist").inner_text().strip() == say(
            language, "You chose this mentee already."
        )
        assert page.locator("#my-choices ol li").all_inner_texts() == ["이준호", "김민지"]

        page.goto(f"{url}{reverse('matching_portal:matching_profile')}")
        assert chosen(2) in page.locator(f"#run-{run.pk}").inner_text()
    ranks = Preference.objects.for_organization(organization).filter(mentor=mentor, side=Preference.Side.MENTOR)
    assert [p.enrollment_id for p in ranks.order_by("rank")] == [junho.pk, minji.pk]

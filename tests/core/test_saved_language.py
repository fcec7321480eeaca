"""A logged-in person's saved language is the language of the admin and the mentor portal."""

import pytest
from django.test import Client

from core.models import User

KOREAN_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "ko-KR,ko;q=0.9"}
ENGLISH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def _set_language(user, language):
    User.objects.filter(pk=user.pk).update(language=language)
    user.refresh_from_db()


def test_the_admin_speaks_the_saved_language_over_the_browsers(program_manager, admin_client_for):
    _set_language(program_manager, "en")
    client = admin_client_for(program_manager)
    body = client.get("/admin/", **KOREAN_BROWSER).content.decode()
    assert "Program administration" in body and "프로그램 관리" not in body


def test_an_account_on_the_default_language_follows_the_browser_as_before(program_manager, admin_client_for):
    # Every account starts on Korean, the default: that is no choice, so the browser decides.
    assert program_manager.language == "ko"
    client = admin_client_for(program_manager)
    assert "Program administration" in client.get("/admin/", **ENGLISH_BROWSER).content.decode()
    assert "프로그램 관리" in client.get("/admin/", **KOREAN_BROWSER).content.decode()


def test_the_mentor_portal_speaks_the_saved_language(mentor_user, portal_mentor, admin_client_for):
    _set_language(mentor_user, "en")
    body = admin_client_for(mentor_user).get("/mentor/", **KOREAN_BROWSER).content.decode()
    assert "Average session rating" in body and "세션 평균 평점" not in body


def test_choosing_a_language_in_the_selector_saves_it_to_the_account(program_manager, admin_client_for):
    client = admin_client_for(program_manager)
    assert program_manager.language == "ko"
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"}, **KOREAN_BROWSER)
    assert response.status_code == 302
    program_manager.refresh_from_db()
    assert program_manager.language == "en"
    assert "Program administration" in client.get("/admin/", **KOREAN_BROWSER).content.decode()

    # Another browser without the cookie: the saved choice follows the person.
    elsewhere = admin_client_for(program_manager)
    assert "Program administration" in elsewhere.get("/admin/", **KOREAN_BROWSER).content.decode()


def test_a_choice_in_this_browser_wins_over_the_saved_language(program_manager, admin_client_for):
    _set_language(program_manager, "en")
    client = admin_client_for(program_manager)
    client.cookies["django_language"] = "ko"
    assert "프로그램 관리" in client.get("/admin/", **ENGLISH_BROWSER).content.decode()


def test_an_unknown_language_is_not_saved(program_manager, admin_client_for):
    client = admin_client_for(program_manager)
    client.post("/i18n/setlang/", {"language": "xx", "next": "/admin/"})
    program_manager.refresh_from_db()
    assert program_manager.language == "ko"


def test_choosing_a_language_changes_only_ones_own_account(program_manager, other_program_manager, admin_client_for):
    admin_client_for(program_manager).post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    other_program_manager.refresh_from_db()
    assert other_program_manager.language == "ko"  # the other organization's PM keeps theirs


@pytest.mark.django_db
def test_anonymous_visitors_keep_the_cookie_and_the_browser_language():
    client = Client()
    assert 'lang="en"' in client.get("/admin/login/", **ENGLISH_BROWSER).content.decode()
    response = client.post("/i18n/setlang/", {"language": "ko", "next": "/admin/login/"}, **ENGLISH_BROWSER)
    assert response.cookies["django_language"].value == "ko"
    assert 'lang="ko"' in client.get("/admin/login/", **ENGLISH_BROWSER).content.decode()

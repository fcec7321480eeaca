"""Sign-in with Google, Kakao and Naver (core/sso.py) against the local fake providers.

Each sign-in runs allauth's real flow: the button's POST, the redirect to the provider's
authorization endpoint, the callback with a code, allauth's server-to-server token and
user-info requests to the fake (real HTTP on 127.0.0.1), then our adapter's decision.
"""

from __future__ import annotations

import time
from urllib.parse import urlparse

import pytest
from allauth.socialaccount.models import SocialAccount
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import sso
from core.models import Membership, User
from mentors import services as mentor_services
from mentors.models import Mentor
from tests.factories.core import MembershipFactory, UserFactory
from tests.factories.programs import ProgramFactory

PASSWORD = "pass-for-tests"
PROVIDERS = ["google", "kakao", "naver"]


def sign_in(client: Client, fake, provider: str, *, next_url: str = "/admin/"):
    """Press the provider's button, agree at the provider, come back: the callback's response."""
    start = client.post(reverse(f"{provider}_login"), {"process": "login", "next": next_url})
    assert start.status_code == 302, start.content[:500]
    assert start["Location"].startswith(fake.base_url), start["Location"]
    callback = urlparse(fake.authorize(start["Location"]))
    assert callback.path == reverse(f"{provider}_callback")
    return client.get(f"{callback.path}?{callback.query}")


def signed_in_as(client: Client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value else None


def refusal_reason(response) -> str | None:
    text = response.content.decode()
    marker = 'data-reason="'
    return text.split(marker, 1)[1].split('"', 1)[0] if marker in text else None


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


# --- Linking by verified email --------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_program_manager_signs_in_with_a_verified_email_and_the_account_is_linked(
    provider, program_manager, fake_providers
):
    person = fake_providers.person(provider, email=program_manager.email.upper(), verified=True, name="김피엠")
    client = Client()
    response = sign_in(client, fake_providers, provider)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert signed_in_as(client) == program_manager.pk
    assert client.session[sso.SIGN_IN_METHOD_SESSION_KEY] == f"sso:{provider}"
    assert client.get("/admin/").status_code == 200
    assert [(p, step) for p, step in fake_providers.calls] == [
        (provider, "authorize"),
        (provider, "token"),
        *([] if provider == "google" else [(provider, "profile")]),  # Google's id_token carries the profile
    ]
    account = SocialAccount.objects.get(provider=provider)
    assert account.user == program_manager and account.uid
    assert User.objects.count() == 1  # linked, not a second account
    assert program_manager.email == "pm@hanbit.test"  # untouched

    # Next time the provider's user id decides, and the password still works.
    again = Client()
    fake_providers.person(provider, email=person.email, verified=True, uid=person.uid)
    assert sign_in(again, fake_providers, provider).status_code == 302
    assert signed_in_as(again) == program_manager.pk
    program_manager.refresh_from_db()
    assert program_manager.has_usable_password()
    assert SocialAccount.objects.count() == 1


@pytest.mark.parametrize("provider", ["google", "kakao"])  # Naver shares only addresses it verified
def test_an_unverified_provider_email_never_takes_over_an_account(provider, program_manager, fake_providers):
    fake_providers.person(provider, email=program_manager.email, verified=False)
    client = Client()
    response = sign_in(client, fake_providers, provider)
    assert response.status_code == 403
    assert refusal_reason(response) == "unverified"
    assert "has not verified this email address" in response.content.decode()
    assert signed_in_as(client) is None
    assert not SocialAccount.objects.exists()
    assert client.get("/admin/").status_code == 302  # to the log-in page


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_unknown_email_is_refused_and_no_account_is_made(provider, program_manager, fake_providers):
    fake_providers.person(provider, email="stranger@example.com", verified=True)
    client = Client()
    response = sign_in(client, fake_providers, provider)
    assert response.status_code == 403 and refusal_reason(response) == "unknown"
    assert "There is no account with this email address" in response.content.decode()
    assert signed_in_as(client) is None
    assert list(User.objects.values_list("email", flat=True)) == [program_manager.email]
    assert not SocialAccount.objects.exists()


def test_a_provider_that_shares_no_email_is_refused(program_manager, fake_providers):
    fake_providers.person("kakao", email=None)
    response = sign_in(Client(), fake_providers, "kakao")
    assert response.status_code == 403 and refusal_reason(response) == "no_email"


def test_a_turned_off_account_is_refused(program_manager, fake_providers):
    User.objects.filter(pk=program_manager.pk).update(is_active=False)
    fake_providers.person("google", email=program_manager.email)
    client = Client()
    response = sign_in(client, fake_providers, "google")
    assert response.status_code == 403 and refusal_reason(response) == "inactive"
    assert signed_in_as(client) is None


def test_a_forged_callback_signs_nobody_in(program_manager, fake_providers):
    fake_providers.person("kakao", email=program_manager.email)
    client = Client()
    client.post(reverse("kakao_login"), {"process": "login", "next": "/admin/"})
    response = client.get(reverse("kakao_callback"), {"code": "made-up", "state": "made-up"})
    assert response.status_code in (400, 403) and signed_in_as(client) is None
    assert refusal_reason(response) == "error"


def test_a_pending_mentor_invitation_lets_its_invitee_sign_up_with_that_verified_email(organization, fake_providers):
    invitation, token = mentor_services.invitation_create(
        organization=organization, email="new.mentor@example.com", language="en", send_email=False
    )
    page_url = reverse("mentors:invitation_accept", args=[organization.slug, token])
    client = Client()
    page = client.get(page_url)
    assert page.status_code == 200 and 'data-provider="kakao"' in page.content.decode()

    # Another address than the invitation's: refused, nothing made.
    fake_providers.person("kakao", email="someone.else@example.com")
    assert refusal_reason(sign_in(client, fake_providers, "kakao", next_url=page_url)) == "unknown"
    assert not User.objects.filter(email="someone.else@example.com").exists()

    fake_providers.person("kakao", email="New.Mentor@example.com", name="New Mentor")
    back = sign_in(client, fake_providers, "kakao", next_url=page_url)
    assert back.status_code == 302 and back["Location"] == page_url
    user = User.objects.get(email="new.mentor@example.com")
    assert signed_in_as(client) == user.pk and not user.has_usable_password()
    accepted = client.post(page_url)
    assert accepted.status_code == 302
    mentor = Mentor.objects.for_organization(organization).get(user=user)
    assert mentor.status == Mentor.Status.ACTIVE
    assert sso.SIGNUP_ALLOWANCE_SESSION_KEY not in client.session  # one account per allowance


# --- The login pages ------------------------------------------------------------------------


def test_the_login_pages_show_buttons_of_configured_providers_only(settings, db):
    settings.SOCIALACCOUNT_PROVIDERS = {
        **settings.SOCIALACCOUNT_PROVIDERS,
        "google": {"APPS": []},
        "kakao": {"APPS": [{"client_id": "k", "secret": "s", "key": ""}]},
        "naver": {"APPS": []},
    }
    for url in ("/admin/login/", "/mentor/login/"):
        page = Client().get(url).content.decode()
        assert 'data-provider="kakao"' in page and "Sign in with Kakao" in page, url
        assert 'data-provider="google"' not in page and 'data-provider="naver"' not in page, url
        assert 'action="/accounts/kakao/login/"' in page
    settings.SOCIALACCOUNT_PROVIDERS = {name: {"APPS": []} for name in PROVIDERS}
    assert "data-provider" not in Client().get("/admin/login/").content.decode()


def test_allauths_own_password_and_sign_up_pages_are_not_routed(db):
    for path in ("/accounts/login/", "/accounts/signup/", "/accounts/password/reset/", "/accounts/email/"):
        response = Client().get(path)
        assert response.status_code in (403, 404), path
        assert "password" not in response.content.decode().lower(), path


# --- The organization requires SSO ------------------------------------------------------------


def _require_sso(organization):
    type(organization).objects.filter(pk=organization.pk).update(require_sso=True)


def test_require_sso_refuses_password_logins_of_members_in_the_admin_and_the_portal(
    organization, program_manager, mentor_user, fake_providers
):
    _require_sso(organization)
    client = Client()
    admin = client.post("/admin/login/", {"username": program_manager.email, "password": PASSWORD, "next": "/admin/"})
    assert admin.status_code == 200 and signed_in_as(client) is None
    text = admin.content.decode()
    assert "asks its members to sign in with Google, Kakao or Naver" in text and organization.name in text
    assert 'data-provider="google"' in text  # the buttons right there

    portal = client.post("/mentor/login/", {"username": mentor_user.email, "password": PASSWORD})
    assert portal.status_code == 200 and signed_in_as(client) is None
    assert "asks its members to sign in with Google, Kakao or Naver" in portal.content.decode()

    # A wrong password still says only that the password is wrong (the policy shows after the password).
    wrong = client.post("/admin/login/", {"username": program_manager.email, "password": "nope", "next": "/admin/"})
    assert "asks its members" not in wrong.content.decode()

    # SSO works for them.
    fake_providers.person("naver", email=program_manager.email)
    assert sign_in(client, fake_providers, "naver").status_code == 302
    assert signed_in_as(client) == program_manager.pk and client.get("/admin/").status_code == 200


def test_require_sso_leaves_other_organizations_and_the_superusers_break_glass_alone(
    organization, other_program_manager, superuser
):
    _require_sso(organization)
    MembershipFactory(organization=organization, user=superuser, role=Membership.Role.OWNER)
    for user in (other_program_manager, superuser):
        client = Client()
        response = client.post("/admin/login/", {"username": user.email, "password": PASSWORD, "next": "/admin/"})
        assert response.status_code == 302, user.email
        assert signed_in_as(client) == user.pk


def test_an_owner_sees_and_sets_require_sso_in_the_admin(organization, owner, program_manager, admin_client_for):
    url = reverse("admin:core_organization_change", args=[organization.pk])
    page = admin_client_for(owner).get(url).content.decode()
    assert 'name="require_sso"' in page
    form = {
        "name": organization.name,
        "slug": organization.slug,
        "time_zone": organization.time_zone,
        "language": organization.language,
        "country": organization.country,
        "require_sso": "on",
    }
    assert admin_client_for(owner).post(url, form).status_code == 302
    organization.refresh_from_db()
    assert organization.require_sso
    # A program manager cannot change it.
    assert 'name="require_sso"' not in admin_client_for(program_manager).get(url).content.decode()


# --- Two-step verification still applies ----------------------------------------------------


def _turn_on_two_factor(user) -> TOTPDevice:
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    static = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    StaticToken.objects.create(device=static, token="abcd-1234")
    return device


def test_after_a_social_sign_in_two_step_verification_is_still_asked_before_the_admin(program_manager, fake_providers):
    device = _turn_on_two_factor(program_manager)
    fake_providers.person("google", email=program_manager.email)
    client = Client()
    assert sign_in(client, fake_providers, "google", next_url="/admin/programs/").status_code == 302
    assert signed_in_as(client) == program_manager.pk

    blocked = client.get("/admin/programs/program/?q=a&o=1")
    verify_url = reverse("admin:two_factor_verify")
    assert blocked.status_code == 302
    assert blocked["Location"] == f"{verify_url}?next=%2Fadmin%2Fprograms%2Fprogram%2F%3Fq%3Da%26o%3D1"
    assert client.get("/admin/").status_code == 302  # every admin page
    page = client.get(blocked["Location"])
    assert page.status_code == 200 and "two-step verification" in page.content.decode()

    wrong = client.post(verify_url, {"code": "000000", "next": "/admin/programs/"})
    assert wrong.status_code == 200 and "not valid" in wrong.content.decode()
    assert client.get("/admin/").status_code == 302
    time.sleep(1.1)  # django-otp's growing delay after a wrong code
    done = client.post(verify_url, {"code": code_for(device, steps_ahead=1), "next": "/admin/programs/"})
    assert done.status_code == 302 and done["Location"] == "/admin/programs/"
    assert client.get("/admin/").status_code == 200


def test_a_recovery_code_also_passes_the_second_step(program_manager, fake_providers):
    _turn_on_two_factor(program_manager)
    fake_providers.person("kakao", email=program_manager.email)
    client = Client()
    sign_in(client, fake_providers, "kakao")
    verify_url = reverse("admin:two_factor_verify")
    assert client.post(verify_url, {"code": "abcd-1234", "next": "https://evil.example/"})["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert not StaticToken.objects.filter(token="abcd-1234").exists()  # used up


def test_when_two_factor_is_required_a_social_sign_in_without_it_is_sent_to_set_it_up(
    settings, program_manager, fake_providers
):
    settings.TWO_FACTOR_REQUIRED = True
    fake_providers.person("naver", email=program_manager.email)
    client = Client()
    sign_in(client, fake_providers, "naver")
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"] == reverse("admin:two_factor")


# --- django-axes --------------------------------------------------------------------------------


def test_axes_still_pauses_password_logins_and_refused_social_sign_ins_count_nothing(program_manager, fake_providers):
    client = Client()
    fake_providers.person("kakao", email="stranger@example.com")
    assert refusal_reason(sign_in(client, fake_providers, "kakao")) == "unknown"
    fake_providers.person("google", email=program_manager.email, verified=False)
    assert refusal_reason(sign_in(client, fake_providers, "google")) == "unverified"
    assert not AccessAttempt.objects.exists()

    form = {"username": program_manager.email, "password": "wrong", "next": "/admin/"}
    statuses = [client.post("/admin/login/", form, REMOTE_ADDR="203.0.113.9").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    right = {**form, "password": PASSWORD}
    assert client.post("/admin/login/", right, REMOTE_ADDR="203.0.113.9").status_code == 429

    # The person proves who they are with the provider instead: signed in (axes counts passwords only).
    fake_providers.person("google", email=program_manager.email)
    assert sign_in(client, fake_providers, "google").status_code == 302
    assert signed_in_as(client) == program_manager.pk


# --- Another organization ---------------------------------------------------------------------


def test_an_sso_user_of_one_organization_gets_nothing_of_another(
    organization, other_organization, program_manager, fake_providers
):
    theirs = ProgramFactory(organization=other_organization, name="Other's bootcamp")
    fake_providers.person("kakao", email=program_manager.email)
    client = Client()
    sign_in(client, fake_providers, "kakao")
    assert client.get(reverse("admin:programs_program_change", args=[theirs.pk])).status_code == 404
    listing = client.get(reverse("admin:programs_program_changelist")).content.decode()
    assert "Other's bootcamp" not in listing
    from core.middleware import ACTIVE_ORGANIZATION_SESSION_KEY

    client.post(reverse("admin:switch_organization"), {"organization": other_organization.pk, "next": "/admin/"})
    assert client.session.get(ACTIVE_ORGANIZATION_SESSION_KEY) != other_organization.pk
    assert client.get(f"/api/v1/orgs/{other_organization.slug}/programs/").status_code == 404


def test_a_member_of_another_organization_linking_by_email_joins_nothing(
    organization, other_program_manager, fake_providers
):
    fake_providers.person("google", email=other_program_manager.email)
    client = Client()
    sign_in(client, fake_providers, "google")
    assert signed_in_as(client) == other_program_manager.pk
    assert (
        not Membership.objects.dangerously_all_organizations()
        .filter(user=other_program_manager, organization=organization)
        .exists()
    )


def test_a_user_without_any_membership_signed_in_by_sso_cannot_use_the_admin(db, fake_providers):
    loner = UserFactory(email="loner@example.com")
    fake_providers.person("naver", email=loner.email)
    client = Client()
    sign_in(client, fake_providers, "naver")
    assert signed_in_as(client) == loner.pk
    assert client.get("/admin/").status_code == 302  # to the log-in page: not a member anywhere


def test_only_the_log_in_pages_let_forms_post_on_to_the_configured_providers(
    settings, admin_client_for, program_manager, db
):
    def form_action(response) -> str:
        policy = response["Content-Security-Policy"]
        return next(part for part in policy.split(";") if part.strip().startswith("form-action")).strip()

    assert form_action(Client().get("/admin/login/")) == "form-action 'self'"  # no provider configured
    settings.SOCIALACCOUNT_PROVIDERS = {
        name: {"APPS": [{"client_id": name, "secret": "s", "key": ""}]} for name in PROVIDERS
    }
    login = form_action(Client().get("/admin/login/"))
    assert login.split() == [
        "form-action",
        "'self'",
        "https://accounts.google.com",
        "https://kauth.kakao.com",
        "https://nid.naver.com",
    ]
    assert "kauth.kakao.com" in form_action(Client().get("/mentor/login/"))
    assert form_action(admin_client_for(program_manager).get("/admin/")) == "form-action 'self'"

"""Sign-in with Google, Kakao and Naver (django-allauth), and the organization's SSO policy.

Who may sign in this way: program managers, owners and viewers (the admin) and mentors
(the portal) who already have an account. A provider account is linked to a local
account only through an e-mail address the provider says it VERIFIED; an unverified
address never takes an account over. Nobody signs up by SSO, except a person holding a
pending mentor invitation for that very e-mail address (the invitation page says so to
the session, :func:`signup_allow`). Everybody else sees :func:`refusal_response`.

After a social sign-in, a person with two-step verification (core/two_factor.py) still
gives a code before the admin opens (``TWO_FACTOR_PENDING_SESSION_KEY``, checked by the
admin site). django-axes counts wrong passwords only; a social sign-in checks no password.

An organization may require SSO of its members (``Organization.require_sso``): their
password log-ins are refused with a message pointing to the buttons
(:func:`password_login_refusal`), in the admin and in the mentor portal. Platform
superusers keep a password log-in for emergencies (break-glass, docs/security.md).
"""

from __future__ import annotations

import time
from urllib.parse import urlparse

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.signals import user_logged_in
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from allauth.socialaccount.providers.google.views import GoogleOAuth2Adapter
from allauth.socialaccount.providers.kakao.views import KakaoOAuth2Adapter
from allauth.socialaccount.providers.naver.views import NaverOAuth2Adapter
from django.dispatch import receiver
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import selectors, two_factor

# Providers offered, in the order of the buttons.
PROVIDERS = {
    "google": gettext_lazy("Sign in with Google"),
    "kakao": gettext_lazy("Sign in with Kakao"),
    "naver": gettext_lazy("Sign in with Naver"),
}
_ADAPTERS = {"google": GoogleOAuth2Adapter, "kakao": KakaoOAuth2Adapter, "naver": NaverOAuth2Adapter}
PASSWORD_BACKEND = "django.contrib.auth.backends.ModelBackend"
# Set after a social sign-in of a person with two-step verification: the admin asks for the code.
TWO_FACTOR_PENDING_SESSION_KEY = "sso_two_factor_pending"
# How the session signed in: "password" or "sso:<provider>" (shown nowhere; for audits and tests).
SIGN_IN_METHOD_SESSION_KEY = "sign_in_method"
# A pending invitation lets its invitee create an account by SSO, for a while.
SIGNUP_ALLOWANCE_SESSION_KEY = "sso_signup_allowance"
SIGNUP_ALLOWANCE_SECONDS = 3600


def configured_providers(request, *, next_url: str = "") -> list[dict]:
    """The providers with an app (settings or a SocialApp row): id, button label, start URL."""
    configured = {app.provider for app in get_social_adapter(request).list_apps(request)}
    return [
        {"id": provider, "label": label, "url": reverse(f"{provider}_login"), "next": next_url}
        for provider, label in PROVIDERS.items()
        if provider in configured
    ]


def allow_provider_forms(response, providers: list[dict]):
    """Let this page's sign-in buttons post on to their providers (CSP ``form-action`` follows redirects).

    The buttons post to our /accounts/<provider>/login/, which redirects the browser to the
    provider's authorization page; browsers hold that redirect to the page's ``form-action``.
    Only the pages with buttons widen it, and only to the shown providers' authorization origins.
    """
    if not providers:
        return response
    urls = [urlparse(_ADAPTERS[p["id"]].authorize_url) for p in providers]
    update = dict(getattr(response, "_csp_update", None) or {})
    update["form-action"] = [*update.get("form-action", []), *sorted({f"{u.scheme}://{u.netloc}" for u in urls})]
    response._csp_update = update
    return response


def password_login_refusal(user) -> str | None:
    """Why this person may not log in with a password (their organization requires SSO), or None."""
    if user.is_superuser:  # break-glass: platform superusers keep the password (and two-step verification)
        return None
    requiring = [m.organization.name for m in selectors.memberships_for_user(user=user) if m.organization.require_sso]
    if not requiring:
        return None
    return _(
        "%(organization)s asks its members to sign in with Google, Kakao or Naver, not with a password. "
        "Use one of the buttons below with the account of your email address."
    ) % {"organization": ", ".join(requiring)}


def signup_allow(request, *, email: str) -> None:
    """Let this session create an account by SSO for ``email`` (a pending invitation for it was shown)."""
    request.session[SIGNUP_ALLOWANCE_SESSION_KEY] = {"email": email.strip().lower(), "at": time.time()}


def _signup_allowed_email(request) -> str | None:
    allowance = request.session.get(SIGNUP_ALLOWANCE_SESSION_KEY) or {}
    if not allowance or time.time() - allowance.get("at", 0) > SIGNUP_ALLOWANCE_SECONDS:
        return None
    return allowance.get("email")


def _verified_emails(sociallogin) -> list[str]:
    return [e.email.strip().lower() for e in sociallogin.email_addresses if e.verified and e.email]


def refusal_response(request, reason: str, *, status: int = 403):
    """The page that explains why a social sign-in did not sign anyone in."""
    messages = {
        "unknown": _(
            "There is no account with this email address. Ask the program team of your organization "
            "to add you (or to invite you as a mentor), then sign in again."
        ),
        "unverified": _(
            "The provider has not verified this email address, so it cannot be used to sign in to an "
            "account. Verify the address with the provider, or log in with your password."
        ),
        "no_email": _(
            "The provider did not share an email address. Allow it to share your email address and try again."
        ),
        "inactive": _("This account is turned off. Ask an owner of your organization."),
        "error": _("The sign-in with the provider did not complete. Try again."),
        "cancelled": _("You cancelled the sign-in with the provider."),
    }
    context = {"message": messages.get(reason, messages["error"]), "reason": reason}
    return render(request, "core/sso_refused.html", context, status=status)


class AccountAdapter(DefaultAccountAdapter):
    """No sign-up through allauth's account pages; a social sign-in logs in with the model backend."""

    def is_open_for_signup(self, request) -> bool:
        return False

    def login(self, request, user):
        # The first configured backend is axes', which loads no users: name the one that does.
        if not hasattr(user, "backend"):
            user.backend = PASSWORD_BACKEND
        return super().login(request, user)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Links a provider account to an existing account by verified e-mail; refuses everyone else."""

    def pre_social_login(self, request, sociallogin) -> None:
        if sociallogin.is_existing:  # linked before (by a verified e-mail): the provider's user id decides
            if not sociallogin.user.is_active:
                raise ImmediateHttpResponse(refusal_response(request, "inactive"))
            return
        verified = _verified_emails(sociallogin)
        for email in verified:
            user = selectors.user_by_email(email=email)
            if user is not None:
                if not user.is_active:
                    raise ImmediateHttpResponse(refusal_response(request, "inactive"))
                sociallogin.connect(request, user)
                return
        if self.is_open_for_signup(request, sociallogin):
            return  # allauth signs the invitee up (save_user) and logs them in
        if not sociallogin.email_addresses:
            reason = "no_email"
        elif not verified:
            reason = "unverified"
        else:
            reason = "unknown"
        raise ImmediateHttpResponse(refusal_response(request, reason))

    def is_open_for_signup(self, request, sociallogin) -> bool:
        allowed = _signup_allowed_email(request)
        return bool(allowed) and allowed in _verified_emails(sociallogin)

    def is_auto_signup_allowed(self, request, sociallogin) -> bool:
        return self.is_open_for_signup(request, sociallogin)

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        user.email = (user.email or "").strip().lower()
        user.name = (data.get("name") or data.get("username") or "")[:150]
        return user

    def save_user(self, request, sociallogin, form=None):
        user = super().save_user(request, sociallogin, form)
        request.session.pop(SIGNUP_ALLOWANCE_SESSION_KEY, None)  # an allowance creates one account
        return user

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):
        reason = "cancelled" if error == "cancelled" else "error"
        raise ImmediateHttpResponse(refusal_response(request, reason, status=400 if reason == "error" else 200))


@receiver(user_logged_in, dispatch_uid="core.sso.after_social_sign_in")
def _after_social_sign_in(sender, request, user, sociallogin=None, **kwargs) -> None:
    """A social sign-in of someone with two-step verification still asks for the code in the admin."""
    if sociallogin is None:
        return
    request.session[SIGN_IN_METHOD_SESSION_KEY] = f"sso:{sociallogin.account.provider}"
    if two_factor.is_enabled(user):
        request.session[TWO_FACTOR_PENDING_SESSION_KEY] = True

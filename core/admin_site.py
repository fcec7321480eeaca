"""The admin site for program managers: one organization at a time."""

from __future__ import annotations

from functools import update_wrapper

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token

from core import selectors, sso, two_factor
from core.models import Membership


def user_can_use_admin(user) -> bool:
    """Platform superusers, and members with at least the viewer role somewhere."""
    if not (user.is_active and user.is_authenticated):
        return False
    if user.is_superuser:
        return True
    return any(m.role >= Membership.Role.VIEWER for m in selectors.memberships_for_user(user=user))


class TenantAdminAuthenticationForm(AdminAuthenticationForm):
    """Admits program managers, owners and viewers without Django's is_staff flag.

    After the password, accounts with two-step verification on must give the current
    code of their authenticator app or one recovery code (core/two_factor.py).
    """

    otp_token = forms.CharField(
        label=_("Verification code"),
        required=False,
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text=_("Only if you turned on two-step verification: the 6-digit code of your app, or a recovery code."),
    )

    def confirm_login_allowed(self, user):
        if not user_can_use_admin(user):
            raise ValidationError(
                self.error_messages["invalid_login"], code="invalid_login", params={"username": _("email")}
            )
        refusal = sso.password_login_refusal(user)  # the organization requires SSO (core/sso.py)
        if refusal:
            raise ValidationError(refusal, code="sso_required")
        if two_factor.is_enabled(user):
            token = (self.cleaned_data.get("otp_token") or "").replace(" ", "")
            # No code given is not a wrong code: asking for it must not slow the next try down.
            device = match_token(user, token) if token else None
            if device is None:
                raise ValidationError(
                    _("Enter the current code of your authenticator app, or one of your recovery codes."),
                    code="otp_required",
                )
            user.otp_device = device  # django-otp marks the session verified when the login completes


class TwoFactorCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


# Reachable before two-step verification is set up (when it is required).
TWO_FACTOR_EXEMPT_VIEWS = {
    "two_factor",
    "two_factor_verify",
    "logout",
    "password_change",
    "password_change_done",
    "login",
}


class OrganizationSwitchForm(forms.Form):
    organization = forms.IntegerField()
    next = forms.CharField(required=False)


class TenantAdminSite(admin.AdminSite):
    site_header = _("Cohort platform")
    site_title = _("Cohort platform")
    index_title = _("Program administration")
    login_form = TenantAdminAuthenticationForm

    def has_permission(self, request) -> bool:
        return user_can_use_admin(request.user)

    def get_urls(self):
        urls = [
            path("switch-organization/", self.admin_view(self.switch_organization), name="switch_organization"),
            path("two-step-verification/", self.admin_view(self.two_factor_view), name="two_factor"),
            path("two-step-verification/code/", self.admin_view(self.two_factor_verify_view), name="two_factor_verify"),
        ]
        return urls + super().get_urls()

    def admin_view(self, view, cacheable=False):
        """Owners and program managers set up two-step verification first, when it is required."""
        inner = super().admin_view(view, cacheable)

        def guarded(request, *args, **kwargs):
            user = request.user
            if (
                user.is_authenticated
                and request.resolver_match.url_name not in TWO_FACTOR_EXEMPT_VIEWS
                # Signed in with Google/Kakao/Naver while two-step verification is on (core/sso.py).
                and request.session.get(sso.TWO_FACTOR_PENDING_SESSION_KEY)
                and not user.is_verified()
            ):
                query = urlencode({"next": request.get_full_path()})
                return HttpResponseRedirect(f"{reverse('admin:two_factor_verify')}?{query}")
            if (
                user.is_authenticated
                and request.resolver_match.url_name not in TWO_FACTOR_EXEMPT_VIEWS
                # A verified session (OTPMiddleware, no query) passes first: admin pages pay nothing.
                and not user.is_verified()
                and two_factor.must_enable(user)
            ):
                return HttpResponseRedirect(reverse("admin:two_factor"))
            return inner(request, *args, **kwargs)

        return update_wrapper(guarded, inner)

    def login(self, request, extra_context=None):
        """Django's admin log-in, with the "Sign in with Google / Kakao / Naver" buttons of configured providers."""
        next_url = request.GET.get("next") or request.POST.get("next") or reverse("admin:index", current_app=self.name)
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = reverse("admin:index", current_app=self.name)
        providers = sso.configured_providers(request, next_url=next_url)
        extra_context = {**(extra_context or {}), "sso_providers": providers}
        return sso.allow_provider_forms(super().login(request, extra_context), providers)

    def two_factor_verify_view(self, request):
        """The second step after a social sign-in: the authenticator's code or a recovery code."""
        next_url = request.GET.get("next") or request.POST.get("next") or ""
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = ""
        next_url = next_url or reverse("admin:index", current_app=self.name)
        if request.user.is_verified() or not request.session.get(sso.TWO_FACTOR_PENDING_SESSION_KEY):
            return HttpResponseRedirect(next_url)
        form = TwoFactorCodeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            device = match_token(request.user, form.cleaned_data["code"].replace(" ", ""))
            if device is not None:
                otp_login(request, device)
                request.session.pop(sso.TWO_FACTOR_PENDING_SESSION_KEY, None)
                return HttpResponseRedirect(next_url)
            form.add_error("code", _("That code is not valid. Try the current one from your app, or a recovery code."))
        context = {
            **self.each_context(request),
            "title": _("Two-step verification"),
            "form": form,
            "next": next_url,
        }
        return TemplateResponse(request, "admin/two_factor_verify.html", context)

    def two_factor_view(self, request):
        """Turn two-step verification on (QR code, confirm, recovery codes) or off; new recovery codes."""
        user = request.user
        context = {**self.each_context(request), "title": _("Two-step verification")}
        form = TwoFactorCodeForm(request.POST or None)
        if two_factor.is_enabled(user):
            action = request.POST.get("action")
            if request.method == "POST" and form.is_valid():
                token = form.cleaned_data["code"]
                if action == "disable" and two_factor.disable(user, token):
                    messages.success(request, _("Two-step verification is off."))
                    return HttpResponseRedirect(reverse("admin:two_factor"))
                if action == "new_codes" and match_token(user, token) is not None:
                    codes = two_factor.new_recovery_codes(user)
                    return TemplateResponse(request, "admin/two_factor_codes.html", {**context, "codes": codes})
                form.add_error("code", _("That code is not valid. Try the current one from your app."))
            context.update(enabled=True, form=form, recovery_codes_left=two_factor.recovery_codes_left(user))
            return TemplateResponse(request, "admin/two_factor.html", context)
        device = two_factor.pending_device(user)
        if request.method == "POST" and form.is_valid():
            codes = two_factor.confirm(user, device, form.cleaned_data["code"])
            if codes is not None:
                device.refresh_from_db()
                otp_login(request, device)  # this session counts as verified
                return TemplateResponse(request, "admin/two_factor_codes.html", {**context, "codes": codes})
            form.add_error("code", _("That code is not valid. Check the time on your phone and try the current code."))
        context.update(
            enabled=False,
            form=form,
            required=two_factor.must_enable(user),
            qr_code=two_factor.qr_code_data_uri(device),
            secret=two_factor.readable_secret(device),
        )
        return TemplateResponse(request, "admin/two_factor.html", context)

    def each_context(self, request):
        context = super().each_context(request)
        context["user_memberships"] = (
            list(selectors.memberships_for_user(user=request.user)) if request.user.is_authenticated else []
        )
        return context

    @staticmethod
    @require_POST
    def switch_organization(request):
        """Make another of the user's organizations the active one."""
        from core.middleware import ACTIVE_ORGANIZATION_SESSION_KEY

        form = OrganizationSwitchForm(request.POST)
        target = "../"
        if form.is_valid():
            wanted = form.cleaned_data["organization"]
            if any(m.organization_id == wanted for m in selectors.memberships_for_user(user=request.user)):
                request.session[ACTIVE_ORGANIZATION_SESSION_KEY] = wanted
            else:
                messages.error(request, _("You are not a member of that organization."))
            nxt = form.cleaned_data.get("next") or ""
            if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
                target = nxt
        return HttpResponseRedirect(target)

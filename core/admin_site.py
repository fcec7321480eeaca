"""The admin site for program managers: one organization at a time."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core import selectors
from core.models import Membership


def user_can_use_admin(user) -> bool:
    """Platform superusers, and members with at least the viewer role somewhere."""
    if not (user.is_active and user.is_authenticated):
        return False
    if user.is_superuser:
        return True
    return any(m.role >= Membership.Role.VIEWER for m in selectors.memberships_for_user(user=user))


class TenantAdminAuthenticationForm(AdminAuthenticationForm):
    """Admits program managers, owners and viewers without Django's is_staff flag."""

    def confirm_login_allowed(self, user):
        if not user_can_use_admin(user):
            raise ValidationError(
                self.error_messages["invalid_login"], code="invalid_login", params={"username": _("email")}
            )


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
        urls = [path("switch-organization/", self.admin_view(self.switch_organization), name="switch_organization")]
        return urls + super().get_urls()

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

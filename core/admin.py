from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core import selectors, services
from core.admin_base import TenantAdmin, active_role
from core.models import AuditEvent, Membership, Organization, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Platform-wide accounts: platform superusers only (Django's own permissions)."""

    ordering = ["email"]
    list_display = ["email", "name", "language", "is_active", "is_superuser"]
    search_fields = ["email", "name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("name", "language")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """Members see their organizations; owners edit their settings; superusers add."""

    list_display = ["name", "slug", "language", "time_zone", "country"]
    search_fields = ["name", "slug"]

    def get_queryset(self, request):
        return selectors.organizations_for_user(user=request.user)

    def has_module_permission(self, request):
        return True

    def has_view_permission(self, request, obj=None):
        return True

    def has_change_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        role = active_role(request)
        return role is not None and role >= Membership.Role.OWNER and (obj is None or obj == request.organization)

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class MembershipAddForm(forms.ModelForm):
    """Adds a person by email: accounts are global, so owners never browse other users."""

    email = forms.EmailField(label=_("email address"))
    name = forms.CharField(label=_("name"), required=False)

    class Meta:
        model = Membership
        fields = ["role"]

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def _post_clean(self):
        # An existing account is attached before validation, so that a duplicate
        # membership is a form error; a new account is only created on save.
        existing = selectors.user_by_email(email=self.cleaned_data.get("email", ""))
        if existing is not None:
            self.instance.user = existing
        super()._post_clean()

    def _get_validation_exclusions(self):
        exclude = super()._get_validation_exclusions()
        if self.instance.user_id is not None:
            exclude.discard("user")
        return exclude

    def save(self, commit=True):
        if self.instance.user_id is None:
            self.instance.user = services.user_get_or_invite(
                email=self.cleaned_data["email"], name=self.cleaned_data.get("name", "")
            )
        return super().save(commit)


@admin.register(Membership)
class MembershipAdmin(TenantAdmin):
    """Who belongs to the organization, and in which role. Owners manage it."""

    change_role = Membership.Role.OWNER
    list_display = ["user", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "user__name"]
    list_select_related = ["user"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = MembershipAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        return ["email", "name", "role"] if obj is None else ["user", "role"]

    def get_readonly_fields(self, request, obj=None):
        return ["user"] if obj is not None else []


@admin.register(AuditEvent)
class AuditEventAdmin(TenantAdmin):
    """The audit trail of the organization: read-only, for owners and program managers."""

    view_role = Membership.Role.PROGRAM_MANAGER
    list_display = ["created_at", "actor", "action", "content_type", "object_repr", "changed_fields"]
    list_filter = ["action", "content_type"]
    search_fields = ["object_repr", "object_id", "actor__email", "actor__name"]
    list_select_related = ["actor", "content_type"]
    fields = ["created_at", "actor", "action", "content_type", "object_id", "object_repr", "changes_table"]
    readonly_fields = fields

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("changed fields"))
    def changed_fields(self, event):
        return ", ".join(sorted(event.changes)) if event.action == AuditEvent.Action.UPDATE else ""

    @admin.display(description=_("changes"))
    def changes_table(self, event):
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            ((name, _display(old), _display(new)) for name, (old, new) in sorted(event.changes.items())),
        )
        header = format_html("<tr><th>{}</th><th>{}</th><th>{}</th></tr>", _("field"), _("before"), _("after"))
        return format_html("<table>{}{}</table>", header, rows)


def _display(value) -> str:
    return "—" if value in (None, "") else str(value)

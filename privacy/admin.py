"""Program managers handle data-subject requests and set retention here.

A request is opened with the person and the kind; its page then offers what fits:
the access export (readable page and JSON), carrying out a correction, the erasure
preview and its confirmation, and closing with a notice to the person. Everything
goes through :mod:`privacy.services`. Owners and program managers only: viewers do not
see people's requests.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.admin_base import TenantAdmin, active_organization
from core.forms import form_errors_from
from core.models import Membership, User
from privacy import selectors, services
from privacy.models import DataSubjectRequest, PrivacySettings
from privacy.rendering import export_for_display


def _organization_users(organization):
    if organization is None:
        return User.objects.none()
    return selectors.organization_users(organization=organization)


class DataSubjectRequestForm(forms.ModelForm):
    class Meta:
        model = DataSubjectRequest
        fields = ["kind", "participant", "user", "received_on", "contact_email", "corrections"]

    def clean(self):
        data = super().clean()
        organization = self.instance.organization if self.instance.organization_id else None
        organization = organization or getattr(self, "organization", None)
        if organization is None or self.errors:
            return data
        try:
            services.subject_for(organization=organization, participant=data.get("participant"), user=data.get("user"))
            services._clean_corrections(
                data.get("kind"), data.get("corrections"), participant=data.get("participant"), user=data.get("user")
            )
        except ValidationError as error:
            form_errors_from(self, error)
        return data


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(TenantAdmin):
    form = DataSubjectRequestForm
    view_role = Membership.Role.PROGRAM_MANAGER
    list_display = ["__str__", "person_label", "kind", "status", "received_on", "due_on", "overdue"]
    list_filter = ["kind", "status"]
    search_fields = []
    change_form_template = "admin/privacy/datasubjectrequest/change_form.html"
    readonly_on_change = [
        "kind",
        "participant",
        "user",
        "person_label",
        "contact_email",
        "received_on",
        "due_on",
        "status",
        "corrections",
        "handled_by",
        "carried_out_at",
        "outcome",
        "closed_at",
        "notice_sent_at",
        "refusal_reason",
    ]

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj):
        return obj.is_open and obj.due_on < timezone.localdate()

    def has_change_permission(self, request, obj=None):
        # Changes happen through the buttons of the request's page, never by editing fields.
        return super().has_change_permission(request, obj) and obj is None

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_on_change if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.organization = active_organization(request)
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            # Users are not tenant rows: offer only this organization's members and mentors.
            kwargs["queryset"] = _organization_users(active_organization(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        created = services.data_subject_request_open(
            organization=active_organization(request),
            kind=data["kind"],
            participant=data.get("participant"),
            user=data.get("user"),
            received_on=data.get("received_on"),
            contact_email=data.get("contact_email") or "",
            corrections=data.get("corrections") or None,
        )
        obj.pk = created.pk
        obj.__dict__.update({k: v for k, v in created.__dict__.items() if not k.startswith("_")})

    def response_add(self, request, obj, post_url_continue=None):
        # The request's own page is where the work goes on (export, preview, close).
        messages.success(
            request, gettext("The request is open. The person must be answered by %(due)s.") % {"due": obj.due_on}
        )
        return self._back(obj)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/export/", view(self.export_view), name="privacy_datasubjectrequest_export"),
            path(
                "<path:object_id>/export-json/",
                view(self.export_json_view),
                name="privacy_datasubjectrequest_export_json",
            ),
            path("<path:object_id>/carry-out/", view(self.carry_out_view), name="privacy_datasubjectrequest_carry_out"),
            path("<path:object_id>/erase/", view(self.erase_view), name="privacy_datasubjectrequest_erase"),
            path("<path:object_id>/close/", view(self.close_view), name="privacy_datasubjectrequest_close"),
            *super().get_urls(),
        ]

    def _request_or_404(self, request, object_id) -> DataSubjectRequest:
        obj = self.get_object(request, object_id)
        if obj is None or not super().has_change_permission(request, obj):
            raise Http404
        return obj

    def _back(self, obj):
        return HttpResponseRedirect(reverse("admin:privacy_datasubjectrequest_change", args=[obj.pk]))

    def _export(self, obj):
        try:
            subject = services.subject_of_request(obj)
        except ValidationError:
            raise Http404 from None
        return services.person_export(organization=obj.organization, subject=subject)

    def export_view(self, request, object_id):
        obj = self._request_or_404(request, object_id)
        if obj.kind != DataSubjectRequest.Kind.ACCESS:
            raise Http404
        export = self._export(obj)
        response = TemplateResponse(
            request,
            "privacy/export.html",
            {
                "export": export,
                "parts": export_for_display(export),
                "json_url": reverse("admin:privacy_datasubjectrequest_export_json", args=[obj.pk]),
                "back_url": reverse("admin:privacy_datasubjectrequest_change", args=[obj.pk]),
            },
        )
        response["Cache-Control"] = "no-store"
        return response

    def export_json_view(self, request, object_id):
        obj = self._request_or_404(request, object_id)
        if obj.kind != DataSubjectRequest.Kind.ACCESS:
            raise Http404
        response = HttpResponse(services.export_json(self._export(obj)), content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="personal-data-{obj.pk}.json"'
        response["Cache-Control"] = "no-store"
        return response

    def _carry_out(self, request, obj):
        try:
            services.data_subject_request_carry_out(organization=obj.organization, request=obj, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return False
        return True

    def carry_out_view(self, request, object_id):
        obj = self._request_or_404(request, object_id)
        if request.method != "POST" or obj.kind == DataSubjectRequest.Kind.ERASURE:
            return self._back(obj)
        if self._carry_out(request, obj):
            messages.success(request, gettext("The request has been carried out. Close it to tell the person."))
        return self._back(obj)

    def erase_view(self, request, object_id):
        obj = self._request_or_404(request, object_id)
        if obj.kind != DataSubjectRequest.Kind.ERASURE or not obj.is_open:
            return self._back(obj)
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            if self._carry_out(request, obj):
                messages.success(request, gettext("The person's data has been erased. Close the request to tell them."))
            return self._back(obj)
        try:
            preview = services.person_erase_preview(
                organization=obj.organization, subject=services.subject_of_request(obj)
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return self._back(obj)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": obj,
            "title": gettext("Erase this person's data?"),
            "preview": preview,
        }
        return TemplateResponse(request, "admin/privacy/datasubjectrequest/erase.html", context)

    def close_view(self, request, object_id):
        obj = self._request_or_404(request, object_id)
        if request.method != "POST":
            return self._back(obj)
        try:
            services.data_subject_request_close(
                organization=obj.organization,
                request=obj,
                by=request.user,
                refusal_reason=request.POST.get("refusal_reason", ""),
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, gettext("The request is closed and the person has been sent a notice."))
        return self._back(obj)


class PrivacySettingsForm(forms.ModelForm):
    class Meta:
        model = PrivacySettings
        fields = ["retention_days"]


@admin.register(PrivacySettings)
class PrivacySettingsAdmin(TenantAdmin):
    form = PrivacySettingsForm
    view_role = Membership.Role.PROGRAM_MANAGER
    list_display = ["__str__", "retention_days"]
    change_list_template = "admin/privacy/privacysettings/change_list.html"

    def has_add_permission(self, request, *args):
        organization = active_organization(request)
        exists = organization is not None and PrivacySettings.objects.for_organization(organization).exists()
        return super().has_add_permission(request, *args) and not exists

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        organization = obj.organization if obj.organization_id else active_organization(request)
        saved = services.privacy_settings_update(
            organization=organization, retention_days=form.cleaned_data["retention_days"]
        )
        obj.pk = saved.pk
        obj.organization = organization

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("retention/", view(self.retention_view), name="privacy_privacysettings_retention"),
            *super().get_urls(),
        ]

    def retention_view(self, request):
        organization = active_organization(request)
        if organization is None or not super().has_change_permission(request):
            raise Http404
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            erased = services.retention_apply(organization=organization, dry_run=False)
            count = len(erased)
            messages.success(request, ngettext("%(n)d person erased.", "%(n)d people erased.", count) % {"n": count})
            return HttpResponseRedirect(reverse("admin:privacy_privacysettings_retention"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Retention: who would be erased now"),
            "settings_row": services.privacy_settings_for(organization=organization),
            "candidates": services.retention_candidates(organization=organization),
        }
        return TemplateResponse(request, "admin/privacy/privacysettings/retention.html", context)

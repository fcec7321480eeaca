"""The program manager's view of reminders: the outbox, the 14-day preview, the settings."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from core.admin_base import TenantAdmin, TenantInline, active_organization
from notifications import selectors, services
from notifications.models import (
    ISO_WEEKDAYS,
    DeliveryAttempt,
    Kind,
    Notification,
    NotificationSettings,
    Unsubscribe,
)
from notifications.schedule import zone_of


class NotificationSettingsForm(forms.ModelForm):
    working_days = forms.TypedMultipleChoiceField(
        label=capfirst(_("working days")),
        choices=ISO_WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Days of the week on which reminders are sent."),
    )
    enabled_kinds = forms.MultipleChoiceField(
        label=capfirst(_("kinds switched on")),
        choices=Kind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    webhook_url = forms.URLField(
        label=capfirst(_("chat webhook URL")),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_("An incoming-webhook URL of your team chat. Messages are posted as JSON."),
    )
    webhook_kinds = forms.MultipleChoiceField(
        label=capfirst(_("kinds posted to the webhook")),
        choices=Kind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Only kinds that are switched on are posted, and only when a webhook URL is set."),
    )
    survey_reminder_lead_days = forms.IntegerField(
        label=capfirst(_("survey reminder lead (days)")),
        required=False,
        min_value=1,
        max_value=30,
        help_text=_("Remind those who have not answered a survey this many days before it closes (empty: 3)."),
    )

    def clean_survey_reminder_lead_days(self):
        value = self.cleaned_data.get("survey_reminder_lead_days")
        return NotificationSettings._meta.get_field("survey_reminder_lead_days").default if value is None else value

    class Meta:
        model = NotificationSettings
        fields = [
            "send_hour",
            "quiet_hours_start",
            "quiet_hours_end",
            "working_days",
            "skip_public_holidays",
            "digest_weekday",
            "enabled_kinds",
            "milestone_lead_days",
            "assessment_closing_lead_days",
            "survey_reminder_lead_days",
            "help_request_response_hours",
            "help_request_escalation_hours",
            "webhook_url",
            "webhook_kinds",
        ]


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(TenantAdmin):
    """One settings page per organization: the list leads straight to it."""

    form = NotificationSettingsForm
    fieldsets = [
        (
            _("When"),
            {
                "fields": [
                    "send_hour",
                    ("quiet_hours_start", "quiet_hours_end"),
                    "working_days",
                    "skip_public_holidays",
                    "digest_weekday",
                ],
                "description": _("Local times of the organization's time zone; daylight saving is taken care of."),
            },
        ),
        (
            _("What"),
            {
                "fields": [
                    "enabled_kinds",
                    "milestone_lead_days",
                    "assessment_closing_lead_days",
                    "survey_reminder_lead_days",
                ]
            },
        ),
        (_("Help requests"), {"fields": ["help_request_response_hours", "help_request_escalation_hours"]}),
        (_("Team chat"), {"fields": ["webhook_url", "webhook_kinds"]}),
    ]

    def _existing(self, request):
        organization = active_organization(request)
        if organization is None:
            return None
        return NotificationSettings.objects.for_organization(organization).first()

    def has_add_permission(self, request, *args):
        return super().has_add_permission(request) and self._existing(request) is None

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if active_organization(request) is None:
            return super().changelist_view(request, extra_context)
        existing = self._existing(request)
        if existing is not None:
            return HttpResponseRedirect(reverse("admin:notifications_notificationsettings_change", args=[existing.pk]))
        return HttpResponseRedirect(reverse("admin:notifications_notificationsettings_add"))


class DeliveryAttemptInline(TenantInline):
    model = DeliveryAttempt
    fields = ["started_at", "finished_at", "succeeded", "error", "worker"]
    readonly_fields = fields
    can_delete = False
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.action(description=_("Send selected again (failed, not sent, or outcome unknown)"), permissions=["retry"])
def retry_selected(modeladmin, request, queryset):
    organization = active_organization(request)
    count = 0
    for notification in queryset.filter(status__in=services.RETRYABLE_STATUSES):
        services.notification_retry(organization=organization or notification.organization, notification=notification)
        count += 1
    messages.success(
        request, ngettext("%(n)d notification queued again.", "%(n)d notifications queued again.", count) % {"n": count}
    )


@admin.register(Notification)
class NotificationAdmin(TenantAdmin):
    """The outbox: what was sent, what waits, what failed (and why), with retry."""

    change_list_template = "admin/notifications/notification/change_list.html"
    list_display = ["scheduled_local", "kind", "recipient_display", "status", "attempts", "run"]
    list_filter = ["status", "kind", "channel", "run"]
    search_fields = ["recipient", "recipient_name", "subject_line"]
    list_select_related = ["run", "organization"]
    date_hierarchy = "scheduled_for"
    actions = [retry_selected]
    inlines = [DeliveryAttemptInline]
    fields = [
        "kind",
        "channel",
        "recipient",
        "recipient_name",
        "language",
        "run",
        "reason",
        "status",
        "scheduled_for",
        "sent_at",
        "attempts",
        "next_attempt_at",
        "last_error",
        "subject_line",
        "body_text",
        "html_preview",
        "subject_key",
        "slot",
    ]
    readonly_fields = fields

    @admin.display(description=_("scheduled (local time)"), ordering="scheduled_for")
    def scheduled_local(self, obj):
        """When it was due; for a waiting row held back (quiet hours, a back-off), also when it goes out."""
        zone = zone_of(obj.organization)
        scheduled = obj.scheduled_for.astimezone(zone)
        shown = scheduled.strftime("%Y-%m-%d %H:%M")
        if obj.status == Notification.Status.PENDING and obj.next_attempt_at > obj.scheduled_for:
            goes_out = obj.next_attempt_at.astimezone(zone)
            later = goes_out.strftime("%H:%M" if goes_out.date() == scheduled.date() else "%Y-%m-%d %H:%M")
            return format_html("{}<br><small>{}</small>", shown, _("goes out %(when)s") % {"when": later})
        return shown

    @admin.display(description=_("recipient"), ordering="recipient")
    def recipient_display(self, obj):
        if obj.recipient_name:
            return f"{obj.recipient_name} <{obj.recipient}>"
        return obj.recipient

    @admin.display(description=_("HTML"))
    def html_preview(self, obj):
        if not obj.body_html:
            return "-"
        # A sandboxed frame: the mail's HTML is shown, never run in the admin's origin.
        return format_html(
            '<iframe sandbox="" srcdoc="{}" style="width:100%;max-width:640px;height:420px;border:1px solid #ccc;">'
            "</iframe>",
            obj.body_html,
        )

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # rows are history: shown, never edited

    def has_delete_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return self._role_at_least(request, self.change_role)

    def get_urls(self):
        urls = [
            path("preview/", self.admin_site.admin_view(self.preview_view), name="notifications_notification_preview"),
            path(
                "plan-now/",
                self.admin_site.admin_view(require_POST(self.plan_now_view)),
                name="notifications_notification_plan_now",
            ),
        ]
        return urls + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_plan_now": self.has_retry_permission(request)}
        organization = active_organization(request)
        if organization is not None:
            extra_context["delivery"] = selectors.delivery_health(organization=organization)
        return super().changelist_view(request, extra_context)

    def preview_view(self, request):
        """Everything that will be sent in the next 14 days, for one run or the whole organization."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        organization = active_organization(request)
        if organization is None:
            raise Http404
        runs = selectors.runs_for_preview(organization=organization)
        run = None
        run_id = request.GET.get("run", "")
        if run_id:
            if not run_id.isdigit():
                raise Http404
            run = runs.filter(pk=int(run_id)).first()
            if run is None:
                raise Http404  # another organization's run looks like one that does not exist
        rows = services.notifications_preview(organization=organization, run=run)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Reminders of the next 14 days"),
            "organization": organization,
            "runs": runs,
            "run": run,
            "rows": rows,
            # The zone the times are shown in (the template converts each one to it).
            "time_zone": zone_of(organization).key,
        }
        return TemplateResponse(request, "admin/notifications/notification/preview.html", context)

    def plan_now_view(self, request):
        """Plan today's reminders now, without waiting for the send hour (they go out within a minute)."""
        if not self.has_retry_permission(request):
            raise PermissionDenied
        organization = active_organization(request)
        if organization is None:
            raise Http404
        created = services.notifications_plan(organization=organization, respect_send_window=False)
        messages.success(
            request,
            ngettext("%(n)d reminder planned.", "%(n)d reminders planned.", created) % {"n": created},
        )
        return HttpResponseRedirect(reverse("admin:notifications_notification_changelist"))


@admin.register(Unsubscribe)
class UnsubscribeAdmin(TenantAdmin):
    list_display = ["email", "kind", "created_at"]
    list_filter = ["kind"]
    search_fields = ["email"]
    fields = ["email", "kind"]

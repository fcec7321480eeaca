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

from core.admin_base import LargeChangeListMixin, TenantAdmin, TenantInline, active_organization
from notifications import selectors, services
from notifications.forms import SECRET_KEPT, SecretInput, kind_channel_choices, kind_channel_fields
from notifications.models import (
    ALIMTALK_VARIABLES,
    ISO_WEEKDAYS,
    PARTICIPANT_CHANNELS,
    STAFF_CHANNELS,
    AlimTalkTemplate,
    Channel,
    ChannelCredentials,
    ChannelProfile,
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

    participant_channels = forms.MultipleChoiceField(
        required=False,
        label=capfirst(_("participants' channels by default")),
        choices=[(c, Channel(c).label) for c in PARTICIPANT_CHANNELS],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Where participants get their messages until they choose for themselves."),
    )
    staff_channels = forms.MultipleChoiceField(
        required=False,
        label=capfirst(_("mentors' and program managers' channels by default")),
        choices=[(c, Channel(c).label) for c in STAFF_CHANNELS],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Where mentors and program managers get their messages until they choose for themselves."),
    )

    def clean_participant_channels(self):
        return self.cleaned_data.get("participant_channels") or [Channel.EMAIL.value]  # none ticked: email

    def clean_staff_channels(self):
        return self.cleaned_data.get("staff_channels") or [Channel.EMAIL.value]

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
            "participant_channels",
            "staff_channels",
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
        (
            _("Channels"),
            {
                "fields": ["participant_channels", "staff_channels"],
                "description": _(
                    "KakaoTalk needs the channel credentials and an approved template per kind; a person's own "
                    "choice wins; without what a channel needs, the message goes by email."
                ),
            },
        ),
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
    fields = [
        "started_at",
        "finished_at",
        "route",
        "succeeded",
        "error",
        "provider_message_id",
        "delivery_status",
        "delivery_detail",
        "worker",
    ]
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
class NotificationAdmin(LargeChangeListMixin, TenantAdmin):
    """The outbox: what was sent, what waits, what failed (and why), with retry.

    The outbox gains a row per message sent, so its list must cost the same at 100 rows or
    100,000: pages in the order of the index ``notification_org_scheduled`` (organization,
    newest scheduled first), a capped count (``LargeChangeListMixin``) and a date filter rather
    than a date hierarchy, whose month and day links need a ``DISTINCT`` over every row.
    """

    change_list_template = "admin/notifications/notification/change_list.html"
    list_display = ["scheduled_local", "kind", "recipient_display", "status", "attempts", "run"]
    list_filter = ["status", "kind", "channel", "scheduled_for", "run"]
    search_fields = ["recipient", "recipient_name", "subject_line"]
    list_select_related = ["run", "organization"]
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


# --- Channels (issue #19) ----------------------------------------------------------------


class ChannelCredentialsForm(forms.ModelForm):
    solapi_api_key = forms.CharField(label=capfirst(_("Solapi API key")), required=False, widget=SecretInput)
    solapi_api_secret = forms.CharField(label=capfirst(_("Solapi API secret")), required=False, widget=SecretInput)
    slack_bot_token = forms.CharField(label=capfirst(_("Slack bot token")), required=False, widget=SecretInput)

    class Meta:
        model = ChannelCredentials
        fields = ["solapi_api_key", "solapi_api_secret", "kakao_pf_id", "sms_sender", "slack_bot_token"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        for name in ("solapi_api_key", "solapi_api_secret", "slack_bot_token"):
            stored = bool(getattr(instance, name, "")) if instance.pk else False
            self.initial[name] = ""
            self.fields[name].help_text = SECRET_KEPT if stored else _("Stored encrypted; never shown again.")

    def _post_clean(self):
        # An empty secret keeps the stored one (the service decides); the model is validated there.
        for name in ("solapi_api_key", "solapi_api_secret", "slack_bot_token"):
            if not self.cleaned_data.get(name) and self.instance.pk:
                self.cleaned_data.pop(name, None)
        super()._post_clean()


@admin.register(ChannelCredentials)
class ChannelCredentialsAdmin(TenantAdmin):
    """The organization's provider accounts (one page): Solapi for KakaoTalk and SMS, a Slack bot."""

    form = ChannelCredentialsForm
    fieldsets = [
        (
            _("KakaoTalk and text messages (Solapi)"),
            {
                "fields": ["solapi_api_key", "solapi_api_secret", "kakao_pf_id", "sms_sender"],
                "description": _(
                    "From the Solapi console: an API key and secret, your KakaoTalk business channel "
                    "and a registered sender number. Templates are registered under KakaoTalk templates."
                ),
            },
        ),
        (_("Slack"), {"fields": ["slack_bot_token"]}),
    ]

    def _existing(self, request):
        organization = active_organization(request)
        return None if organization is None else selectors.channel_credentials_for(organization=organization)

    def has_add_permission(self, request, *args):
        return super().has_add_permission(request) and self._existing(request) is None

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if active_organization(request) is None:
            return super().changelist_view(request, extra_context)
        existing = self._existing(request)
        if existing is not None:
            return HttpResponseRedirect(reverse("admin:notifications_channelcredentials_change", args=[existing.pk]))
        return HttpResponseRedirect(reverse("admin:notifications_channelcredentials_add"))

    def save_model(self, request, obj, form, change):
        organization = obj.organization if change else active_organization(request)
        if organization is None:
            raise Http404
        saved = services.channel_credentials_update(
            organization=organization, **{name: form.cleaned_data.get(name, "") for name in form.Meta.fields}
        )
        obj.pk, obj.organization = saved.pk, saved.organization


class AlimTalkTemplateForm(forms.ModelForm):
    class Meta:
        model = AlimTalkTemplate
        fields = ["kind", "language", "template_id", "content", "is_active"]
        widgets = {"content": forms.Textarea(attrs={"rows": 8, "cols": 60})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        known = ", ".join(f"#{{{name}}}" for name in ALIMTALK_VARIABLES)
        self.fields["content"].help_text = _(
            "The text exactly as Kakao approved it. Variables you may use: %(known)s."
        ) % {"known": known}


@admin.register(AlimTalkTemplate)
class AlimTalkTemplateAdmin(TenantAdmin):
    """Approved KakaoTalk AlimTalk templates, one per kind of message and language."""

    form = AlimTalkTemplateForm
    list_display = ["kind", "language", "template_id", "variables_display", "is_active"]
    list_filter = ["kind", "language", "is_active"]
    search_fields = ["template_id", "content"]

    @admin.display(description=_("variables"))
    def variables_display(self, obj):
        return ", ".join(f"#{{{name}}}" for name in obj.variables or []) or "-"

    def save_model(self, request, obj, form, change):
        organization = obj.organization if change else active_organization(request)
        if organization is None:
            raise Http404
        if change:
            services.alimtalk_template_change(
                organization=organization,
                template=obj,
                **{name: form.cleaned_data[name] for name in form.Meta.fields},
            )
            return
        saved = services.alimtalk_template_save(
            organization=organization,
            kind=obj.kind,
            language=obj.language,
            template_id=obj.template_id,
            content=obj.content,
            is_active=obj.is_active,
        )
        obj.pk, obj.organization = saved.pk, saved.organization


class ChannelProfileForm(forms.ModelForm):
    teams_webhook_url = forms.URLField(
        label=capfirst(_("Microsoft Teams webhook URL")), required=False, assume_scheme="https", widget=SecretInput
    )

    class Meta:
        model = ChannelProfile
        fields = ["email", "slack_member_id", "teams_webhook_url"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["teams_webhook_url"] = ""
        if self.instance.pk and self.instance.teams_webhook_url:
            self.fields["teams_webhook_url"].help_text = SECRET_KEPT
        kind_channel_fields(
            self,
            kinds=Kind.values,
            offered=STAFF_CHANNELS,
            current=self.instance.choices or {},
            defaults=[Channel.EMAIL.value],
        )

    def _post_clean(self):
        if not self.cleaned_data.get("teams_webhook_url") and self.instance.pk:
            self.cleaned_data.pop("teams_webhook_url", None)
        super()._post_clean()


@admin.register(ChannelProfile)
class ChannelProfileAdmin(TenantAdmin):
    """How mentors and program managers are reached: Slack member id, Teams URL, channels per kind."""

    form = ChannelProfileForm
    list_display = ["email", "slack_member_id", "teams_set", "updated_at"]
    search_fields = ["email"]

    @admin.display(description=_("Teams"), boolean=True)
    def teams_set(self, obj):
        return bool(obj.teams_webhook_url)

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": ["email", "slack_member_id", "teams_webhook_url"]}),
            (
                _("Channels per kind"),
                {
                    "fields": [f"kind__{kind}" for kind in Kind.values],
                    "description": _("A channel without what it needs (a member id, a URL) falls back to email."),
                },
            ),
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["fields"] = ["email", "slack_member_id", "teams_webhook_url"]
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request, obj, form, change):
        organization = obj.organization if change else active_organization(request)
        if organization is None:
            raise Http404
        saved = services.channel_profile_update(
            organization=organization,
            email=form.cleaned_data["email"],
            choices=kind_channel_choices(form.cleaned_data, Kind.values),
            slack_member_id=form.cleaned_data.get("slack_member_id", ""),
            teams_webhook_url=form.cleaned_data.get("teams_webhook_url") or None,
        )
        obj.pk, obj.organization = saved.pk, saved.organization

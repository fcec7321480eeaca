"""Admin of API keys, webhook subscriptions and the delivery log (with replay)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin_base import TenantAdmin, TenantInline, active_organization
from core.events import EVENT_TYPES
from integrations import services
from integrations.models import ApiKey, WebhookAttempt, WebhookDelivery, WebhookSubscription
from integrations.scopes import scope_choices


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"), choices=scope_choices, widget=forms.CheckboxSelectMultiple, required=True
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "expires_at", "rate_limit_per_minute"]


@admin.register(ApiKey)
class ApiKeyAdmin(TenantAdmin):
    """Keys are created here (the key is shown once, in a message) and revoked, never deleted."""

    form = ApiKeyForm
    list_display = ["name", "prefix", "scope_list", "expires_at", "last_used_at", "revoked_at", "created_by"]
    list_select_related = ["created_by"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "last_used_at", "revoked_at", "created_by", "created_at"]
    actions = ["revoke_selected"]

    @admin.display(description=_("scopes"))
    def scope_list(self, obj):
        return ", ".join(obj.scopes or ())

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the key's history stays

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        organization = active_organization(request)
        try:
            key, plaintext = services.api_key_create(
                organization=organization,
                name=obj.name,
                scopes=list(form.cleaned_data["scopes"]),
                expires_at=obj.expires_at,
                created_by=request.user,
                rate_limit_per_minute=obj.rate_limit_per_minute,
            )
        except ValidationError as error:  # validated by the form already; a race at most
            raise forms.ValidationError(error.messages)
        for field in ("id", "organization_id", "prefix", "secret_hash", "service_user_id", "created_at"):
            setattr(obj, field, getattr(key, field))
        obj._state.adding = False
        messages.warning(
            request,
            format_html(
                "{} <code>{}</code>",
                _("Copy the new API key now; it will not be shown again:"),
                plaintext,
            ),
        )

    @admin.action(description=_("Revoke selected keys"))
    def revoke_selected(self, request, queryset):
        organization_keys = list(queryset.select_related("organization"))
        for key in organization_keys:
            services.api_key_revoke(organization=key.organization, api_key=key, revoked_by=request.user)
        count = len(organization_keys)
        messages.success(request, ngettext("%(n)d key revoked.", "%(n)d keys revoked.", count) % {"n": count})


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("events"), choices=[(event, event) for event in EVENT_TYPES], widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookSubscription
        fields = ["url", "description", "events", "is_active"]

    def clean(self):
        cleaned = super().clean()
        from integrations.http import url_refusal_reason

        reason = url_refusal_reason(cleaned.get("url") or "")
        if cleaned.get("url") and reason:
            self.add_error("url", reason)
        return cleaned


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(TenantAdmin):
    form = WebhookSubscriptionForm
    list_display = ["url", "description", "event_list", "is_active", "failing_since", "disabled_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    readonly_fields = ["secret", "disabled_at", "disabled_reason", "failing_since", "created_at"]
    actions = ["rotate_secret"]

    @admin.display(description=_("events"))
    def event_list(self, obj):
        return ", ".join(obj.events or ())

    def get_readonly_fields(self, request, obj=None):
        # The secret exists once the subscription is saved.
        return self.readonly_fields if obj is not None else []

    def save_model(self, request, obj, form, change):
        organization = obj.organization if change else active_organization(request)
        fields = {name: form.cleaned_data[name] for name in ("url", "description", "events", "is_active")}
        if change:
            services.webhook_subscription_update(organization=organization, subscription=obj, **fields)
            return
        created = services.webhook_subscription_create(
            organization=organization, url=fields["url"], events=fields["events"], description=fields["description"]
        )
        if not fields["is_active"]:
            services.webhook_subscription_update(organization=organization, subscription=created, is_active=False)
        for field in ("id", "organization_id", "secret", "created_at"):
            setattr(obj, field, getattr(created, field))
        obj._state.adding = False

    @admin.action(description=_("Rotate the signing secret (the old one signs too for 24 hours)"))
    def rotate_secret(self, request, queryset):
        subscriptions = list(queryset.select_related("organization"))
        for subscription in subscriptions:
            services.webhook_secret_rotate(organization=subscription.organization, subscription=subscription)
        messages.success(request, _("New secrets are shown on each subscription's page."))


class WebhookAttemptInline(TenantInline):
    model = WebhookAttempt
    fields = ["number", "created_at", "succeeded", "status_code", "latency_ms", "error", "response_body"]
    readonly_fields = fields
    ordering = ["number"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(TenantAdmin):
    """The delivery log: every attempt with status, latency and the receiver's answer; replayable."""

    list_display = ["event_type", "subscription", "status", "attempt_count", "last_status_code", "next_attempt_at"]
    list_filter = ["status", "event_type", "subscription"]
    list_select_related = ["subscription"]
    search_fields = ["event_id", "event_type"]
    readonly_fields = [
        "subscription",
        "event_id",
        "event_type",
        "status",
        "attempt_count",
        "next_attempt_at",
        "last_attempt_at",
        "last_status_code",
        "delivered_at",
        "body",
        "created_at",
    ]
    fields = readonly_fields
    inlines = [WebhookAttemptInline]
    actions = ["replay_selected"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Replay selected deliveries"))
    def replay_selected(self, request, queryset):
        deliveries = list(queryset.select_related("organization"))
        for delivery in deliveries:
            services.webhook_delivery_replay(organization=delivery.organization, delivery=delivery)
        count = len(deliveries)
        messages.success(
            request, ngettext("%(n)d delivery queued again.", "%(n)d deliveries queued again.", count) % {"n": count}
        )

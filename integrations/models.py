"""API keys, idempotency records, webhook subscriptions and deliveries."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import ArchivableTenantModel, Membership, TenantModel


class ApiKey(TenantModel):
    """A secret that lets an external tool act on one organization's data.

    The key is shown once, at creation (``ck_<prefix>_<secret>``); only the prefix
    (visible in the admin and logs) and a SHA-256 hash of the secret are stored.
    ``scopes`` lists ``<group>:read`` / ``<group>:write`` grants per resource group
    (see :mod:`integrations.scopes`). Requests made with a key act as the key's
    ``service_user``, a user without a password or membership, so that rows that
    record "who did this" point at the key.
    """

    # Read by core.api: request.auth objects with this flag are API keys.
    is_api_key = True

    name = models.CharField(_("name"), max_length=100, help_text=_("What the key is for, e.g. “CRM sync”."))
    prefix = models.CharField(_("prefix"), max_length=16, db_index=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    rate_limit_per_minute = models.PositiveIntegerField(
        _("requests per minute"),
        null=True,
        blank=True,
        help_text=_("Leave empty for the platform default."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    service_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "prefix"], name="apikey_unique_prefix_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    def has_scope(self, scope: str) -> bool:
        """``programs:read`` is granted by ``programs:read`` or ``programs:write``."""
        group, _sep, access = scope.partition(":")
        granted = set(self.scopes or ())
        return scope in granted or (access == "read" and f"{group}:write" in granted)

    def membership_stand_in(self) -> Membership:
        """An unsaved membership for code that reads ``view.membership.role``.

        Keys are never more than a program manager; read-only keys are viewers.
        """
        writes = any(str(scope).endswith(":write") for scope in self.scopes or ())
        role = Membership.Role.PROGRAM_MANAGER if writes else Membership.Role.VIEWER
        return Membership(organization=self.organization, user=self.service_user, role=role)


class IdempotencyRecord(TenantModel):
    """The first response to a POST with an ``Idempotency-Key``, replayed to retries for 24 hours."""

    principal = models.CharField(max_length=64)  # "key:<prefix>" or "user:<id>": keys never collide across clients
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    response_headers = models.JSONField(default=dict, blank=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "principal", "key"], name="idempotencyrecord_unique_key_per_principal"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class WebhookSubscription(ArchivableTenantModel):
    """An integrator's endpoint and the events it wants, signed with ``secret`` (Standard Webhooks)."""

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True, editable=False)
    disabled_reason = models.CharField(_("reason disabled"), max_length=200, blank=True, editable=False)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.description or self.url

    def signing_secrets(self, *, now=None) -> list[str]:
        """The current secret, plus the previous one while a rotation's grace period lasts."""
        now = now or timezone.now()
        secrets = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and self.previous_secret_expires_at > now:
            secrets.append(self.previous_secret)
        return secrets

    def wants(self, event: str) -> bool:
        return self.is_active and self.archived_at is None and event in (self.events or ())


class WebhookDelivery(TenantModel):
    """One event for one subscription: the outbox row that Celery delivers and retries."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Failed (gave up)")
        CANCELLED = "cancelled", _("Cancelled")

    subscription = models.ForeignKey(
        WebhookSubscription, verbose_name=_("subscription"), on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.CharField(_("event id"), max_length=40)  # the webhook-id header: the same on every retry
    event_type = models.CharField(_("event"), max_length=50)
    body = models.TextField(_("body"))  # the exact bytes signed and sent on every attempt
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True, db_index=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)  # a worker is sending it

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "subscription", "event_id"], name="webhookdelivery_unique_event_per_sub"
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhookdelivery_due")]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.subscription_id} ({self.event_id})"


class WebhookAttempt(TenantModel):
    """One HTTP request of a delivery: the log an integrator's support call starts from."""

    delivery = models.ForeignKey(
        WebhookDelivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="attempts"
    )
    number = models.PositiveSmallIntegerField(_("attempt"))
    url = models.URLField(_("URL"), max_length=500)
    succeeded = models.BooleanField(_("succeeded"), default=False)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), default=0)
    response_body = models.TextField(_("response (truncated)"), blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.number} {self.status_code or self.error}"

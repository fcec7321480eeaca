"""Data-subject requests (access, correction, erasure) and each organization's retention rule.

Korea's Personal Information Protection Act: act on a person's request and tell them
within ten days (``PRIVACY_REQUEST_DUE_DAYS``). See docs/privacy.md.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import TenantModel


class DataSubjectRequest(TenantModel):
    """One person's request to see, correct or erase their personal data.

    The person is a participant or a user (mentor, staff) of the organization.
    ``person_label`` and ``contact_email`` are how the request names and answers the
    person; the audit trail never records them (``audit_ignore_fields``), an erasure
    blanks the label at once and closing blanks the address once the notice is sent.
    """

    class Kind(models.TextChoices):
        ACCESS = "access", _("Access (a copy of the data)")
        CORRECTION = "correction", _("Correction")
        ERASURE = "erasure", _("Erasure")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Carried out")
        CLOSED = "closed", _("Closed (person told)")
        REFUSED = "refused", _("Refused (person told)")

    audit_ignore_fields = ("person_label", "contact_email", "corrections")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    participant = models.ForeignKey(
        "programs.Participant",
        verbose_name=_("participant"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user (mentor or staff)"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    person_label = models.CharField(_("person"), max_length=200, blank=True, editable=False)
    contact_email = models.EmailField(
        _("answer to"), blank=True, help_text=_("Where the closing notice goes; blanked once it is sent.")
    )
    received_on = models.DateField(_("received on"))
    due_on = models.DateField(_("answer due by"), editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    corrections = models.JSONField(_("corrections asked for"), default=dict, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    carried_out_at = models.DateTimeField(_("carried out at"), null=True, blank=True, editable=False)
    outcome = models.JSONField(_("outcome"), default=dict, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    notice_sent_at = models.DateTimeField(_("closing notice sent at"), null=True, blank=True, editable=False)
    refusal_reason = models.TextField(_("reason for refusing"), blank=True)

    class Meta:
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(participant__isnull=True) | Q(user__isnull=True),
                name="datasubjectrequest_one_person",
            ),
        ]
        indexes = [models.Index(fields=["organization", "status", "due_on"], name="dsr_org_status_due")]

    def __str__(self) -> str:
        # No name here: the audit trail copies this text into object_repr.
        return f"{self.get_kind_display()} #{self.pk or '-'}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def subject_kind(self) -> str:
        return "user" if self.user_id else "participant"


class PrivacySettings(TenantModel):
    """How long an organization keeps the personal data of people whose runs have finished."""

    retention_days = models.PositiveIntegerField(
        _("keep personal data for (days after the run ends)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(30), MaxValueValidator(3650)],
        help_text=_(
            "After this many days past the end of a person's last finished run, the nightly task erases "
            "their identity (counts and levels stay). Empty: keep until someone asks."
        ),
    )

    class Meta:
        verbose_name = _("privacy settings")
        verbose_name_plural = _("privacy settings")
        constraints = [models.UniqueConstraint(fields=["organization"], name="privacysettings_one_per_org")]

    def __str__(self) -> str:
        return str(_("Privacy settings"))

    def clean(self) -> None:
        super().clean()
        if self.retention_days is not None and self.retention_days < 30:
            raise ValidationError({"retention_days": _("Keep data at least 30 days after a run ends.")})

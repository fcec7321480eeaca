"""Mentors: the supporting customers, with their own development goals."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TenantModel


class Mentor(TenantModel):
    """An organization's engagement of a user as a mentor.

    One user can be a mentor in several organizations: one row per organization.
    """

    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        ALUMNI = "alumni", _("Alumni")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="mentor_engagements"
    )
    expertise = models.JSONField(_("expertise areas"), default=list, blank=True)
    bio = models.TextField(_("bio"), blank=True)
    motivation = models.TextField(
        _("motivation"), blank=True, help_text=_("Why they mentor and what they want to get from it.")
    )
    capacity = models.PositiveSmallIntegerField(_("capacity"), default=3, help_text=_("How many mentees at once."))
    availability = models.CharField(_("availability"), max_length=200, blank=True)
    other_affiliations = models.TextField(_("other affiliations"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        verbose_name = _("mentor")
        verbose_name_plural = _("mentors")
        ordering = ["user__name", "id"]
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="mentor_unique_user_per_org")]

    def __str__(self) -> str:
        return str(self.user)

"""Mentor matching: stated preferences, conflicts a program manager marks, and proposals.

The profiles themselves live with their owners: the mentor's on ``mentors.Mentor`` (and the
practice areas of their development goals), the participant's needs per run on
``programs.Enrollment``. A proposal is a snapshot for one run: one row per enrollment with
the proposed mentor, a score and the reasons; accepting a row creates the mentor assignment
through ``programs.services.mentor_assign``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TenantModel

#: How many mentors a participant (and how many mentees a mentor) may rank.
MAX_RANK = 3


class Preference(TenantModel):
    """A ranked choice, by a participant (of a mentor) or by a mentor (of an enrollment), in one run."""

    class Side(models.TextChoices):
        PARTICIPANT = "participant", _("Participant's choice")
        MENTOR = "mentor", _("Mentor's choice")

    run = models.ForeignKey("programs.Run", verbose_name=_("run"), on_delete=models.CASCADE, related_name="+")
    enrollment = models.ForeignKey(
        "programs.Enrollment", verbose_name=_("enrollment"), on_delete=models.CASCADE, related_name="+"
    )
    mentor = models.ForeignKey("mentors.Mentor", verbose_name=_("mentor"), on_delete=models.CASCADE, related_name="+")
    side = models.CharField(_("stated by"), max_length=16, choices=Side.choices)
    rank = models.PositiveSmallIntegerField(
        _("rank"), validators=[MinValueValidator(1), MaxValueValidator(MAX_RANK)], help_text=_("1 = first choice.")
    )

    class Meta:
        verbose_name = _("matching preference")
        verbose_name_plural = _("matching preferences")
        ordering = ["run_id", "side", "enrollment_id", "mentor_id", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "side", "enrollment", "mentor"], name="matchingpreference_unique_pair"
            ),
            models.UniqueConstraint(
                fields=["organization", "side", "enrollment", "rank"],
                condition=models.Q(side="participant"),
                name="matchingpreference_unique_participant_rank",
            ),
            models.UniqueConstraint(
                fields=["organization", "side", "run", "mentor", "rank"],
                condition=models.Q(side="mentor"),
                name="matchingpreference_unique_mentor_rank",
            ),
        ]
        indexes = [models.Index(fields=["organization", "run"], name="matchingpreference_org_run")]

    def __str__(self) -> str:
        return f"{self.get_side_display()} #{self.rank}: {self.enrollment} · {self.mentor}"

    def clean(self) -> None:
        super().clean()
        if self.enrollment_id and self.run_id and self.enrollment.run_id != self.run_id:
            raise ValidationError({"enrollment": _("This enrollment is not part of this run.")})


class Conflict(TenantModel):
    """A pair a program manager rules out (an investor in a competitor, a relative, ...)."""

    mentor = models.ForeignKey("mentors.Mentor", verbose_name=_("mentor"), on_delete=models.CASCADE, related_name="+")
    enrollment = models.ForeignKey(
        "programs.Enrollment", verbose_name=_("enrollment"), on_delete=models.CASCADE, related_name="+"
    )
    note = models.CharField(_("why"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("matching conflict")
        verbose_name_plural = _("matching conflicts")
        ordering = ["enrollment_id", "mentor_id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "mentor", "enrollment"], name="matchingconflict_unique")
        ]

    def __str__(self) -> str:
        return f"{self.mentor} ✕ {self.enrollment}"


class Proposal(TenantModel):
    """A proposed set of mentor-enrollment pairs for one run, for a program manager to review."""

    run = models.ForeignKey("programs.Run", verbose_name=_("run"), on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("matching proposal")
        verbose_name_plural = _("matching proposals")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "run"], name="matchingproposal_org_run")]

    def __str__(self) -> str:
        return f"{self.run} · {self.created_at:%Y-%m-%d %H:%M}" if self.created_at else str(self.run)


class ProposedPair(TenantModel):
    """One enrollment of a proposal, its proposed mentor (none when no seat could be found) and why.

    ``reasons`` are stored as codes with values (see ``matching.reasons``) and put into
    words in the reader's language when shown.
    """

    proposal = models.ForeignKey(Proposal, verbose_name=_("proposal"), on_delete=models.CASCADE, related_name="pairs")
    enrollment = models.ForeignKey(
        "programs.Enrollment", verbose_name=_("enrollment"), on_delete=models.CASCADE, related_name="+"
    )
    mentor = models.ForeignKey(
        "mentors.Mentor", verbose_name=_("mentor"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    score = models.PositiveSmallIntegerField(_("score"), default=0)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    assignment = models.ForeignKey(
        "programs.MentorAssignment",
        verbose_name=_("assignment"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("proposed pair")
        verbose_name_plural = _("proposed pairs")
        ordering = ["proposal_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "proposal", "enrollment"], name="proposedpair_unique")
        ]

    def __str__(self) -> str:
        return f"{self.enrollment} → {self.mentor or '—'}"

    @property
    def is_accepted(self) -> bool:
        return self.accepted_at is not None

"""Mentors: the supporting customers, with their own development goals.

A mentor is a customer too: they come to develop their own careers, describe their own
mentoring approach, keep development goals with measurable key results and log the
sessions they hold. Goals are private to the mentor unless the mentor shares them.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import ArchivableTenantModel, TenantModel
from programs.vocabulary import Area, Industry, Language, Stage, clean_codes


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
    # The matching profile: codes of programs.vocabulary, so that overlaps with needs can be computed.
    expertise_areas = models.JSONField(_("expertise areas (for matching)"), default=list, blank=True)
    industries = models.JSONField(_("industries"), default=list, blank=True)
    stages = models.JSONField(_("stages they like to help"), default=list, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)

    class Meta:
        verbose_name = _("mentor")
        verbose_name_plural = _("mentors")
        ordering = ["user__name", "id"]
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="mentor_unique_user_per_org")]

    def __str__(self) -> str:
        return str(self.user)

    def clean(self) -> None:
        if not isinstance(self.expertise, list) or not all(isinstance(item, str) for item in self.expertise):
            raise ValidationError({"expertise": _("Expertise areas must be a list of words or phrases.")})
        errors = {}
        for field, choices in MATCHING_PROFILE_VOCABULARY.items():
            try:
                setattr(self, field, clean_codes(getattr(self, field), choices, field))
            except ValidationError as error:
                errors.update(error.message_dict)
        if errors:
            raise ValidationError(errors)


MATCHING_PROFILE_VOCABULARY = {
    "expertise_areas": Area,
    "industries": Industry,
    "stages": Stage,
    "languages": Language,
}


class MentorInvitation(TenantModel):
    """A program manager's invitation to become a mentor of the organization.

    The link carries a random token; only its SHA-256 hash is stored, so the table
    cannot be used to forge links. A link works once, and only until ``expires_at``.
    """

    email = models.EmailField(_("email"))
    name = models.CharField(_("name"), max_length=150, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="ko")
    message = models.TextField(_("personal message"), blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    token_hash = models.CharField(max_length=64, editable=False)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True, editable=False)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    mentor = models.ForeignKey(
        Mentor,
        verbose_name=_("mentor"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="invitations",
    )

    class Meta:
        verbose_name = _("mentor invitation")
        verbose_name_plural = _("mentor invitations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "token_hash"], name="mentorinvitation_unique_token")
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_used(self) -> bool:
        return self.accepted_at is not None

    @property
    def is_expired(self) -> bool:
        return not self.is_used and self.expires_at <= timezone.now()

    @property
    def state(self) -> str:
        if self.is_used:
            return "accepted"
        return "expired" if self.is_expired else "pending"


class DevelopmentGoal(ArchivableTenantModel):
    """A mentor's own career or development goal.

    Progress is not typed in: it is derived from the key results (see
    :func:`mentors.selectors.goal_progress`).
    """

    class Status(models.TextChoices):
        ON_TRACK = "on_track", _("On track")
        BEHIND = "behind", _("Behind")
        AT_RISK = "at_risk", _("At risk")
        DONE = "done", _("Done")

    class Visibility(models.TextChoices):
        PRIVATE = "private", _("Private: only me")
        SHARED = "shared", _("Shared with the program team")

    mentor = models.ForeignKey(
        Mentor, verbose_name=_("mentor"), on_delete=models.CASCADE, related_name="development_goals"
    )
    title = models.CharField(_("title"), max_length=200)
    why_it_matters = models.TextField(_("why it matters"), blank=True)
    target_date = models.DateField(_("target date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ON_TRACK)
    visibility = models.CharField(
        _("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    checkin_cadence_days = models.PositiveSmallIntegerField(
        _("check-in every (days)"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("How often you want to be reminded to check in on this goal."),
    )
    practice_areas = models.JSONField(
        _("areas to practise"),
        default=list,
        blank=True,
        help_text=_("Mentoring areas this goal lets you practise; matching proposes mentees who need them."),
    )

    class Meta:
        verbose_name = _("development goal")
        verbose_name_plural = _("development goals")
        ordering = ["target_date", "id"]
        indexes = [models.Index(fields=["organization", "mentor", "visibility"], name="goal_org_mentor_visibility")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_shared(self) -> bool:
        return self.visibility == self.Visibility.SHARED

    def clean(self) -> None:
        super().clean()
        self.practice_areas = clean_codes(self.practice_areas, Area, "practice_areas")


class KeyResult(TenantModel):
    """A measurable result of a goal: from a start value towards a target value."""

    goal = models.ForeignKey(
        DevelopmentGoal, verbose_name=_("goal"), on_delete=models.CASCADE, related_name="key_results"
    )
    title = models.CharField(_("title"), max_length=200)
    start_value = models.DecimalField(_("start value"), max_digits=14, decimal_places=2, default=Decimal("0"))
    current_value = models.DecimalField(_("current value"), max_digits=14, decimal_places=2, default=Decimal("0"))
    target_value = models.DecimalField(_("target value"), max_digits=14, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=40, blank=True, help_text=_("For example: talks, %, mentees."))

    class Meta:
        verbose_name = _("key result")
        verbose_name_plural = _("key results")
        ordering = ["goal_id", "id"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.target_value is not None and self.start_value is not None and self.target_value == self.start_value:
            raise ValidationError(
                {"target_value": _("The target must differ from the start value, or there is nothing to measure.")}
            )

    @property
    def progress(self) -> Decimal:
        """Share of the way from start to target, 0-100 (works for targets below the start too)."""
        span = self.target_value - self.start_value
        if not span:
            return Decimal("0")
        share = (self.current_value - self.start_value) / span * 100
        return max(Decimal("0"), min(Decimal("100"), share)).quantize(Decimal("1"))


class GoalCheckIn(TenantModel):
    """A mentor's periodic look at a goal: new key-result values, a note, a confidence.

    ``progress`` is a snapshot of the derived progress at the time (for the chart over
    time); it is computed by the service, never entered.
    """

    goal = models.ForeignKey(
        DevelopmentGoal, verbose_name=_("goal"), on_delete=models.CASCADE, related_name="check_ins"
    )
    progress = models.DecimalField(_("progress (%)"), max_digits=5, decimal_places=2, editable=False, default=0)
    note = models.TextField(_("note"), blank=True)
    confidence = models.PositiveSmallIntegerField(
        _("confidence (1-5)"),
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("How sure are you that you will reach the goal? 1 = not at all, 5 = certain."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=DevelopmentGoal.Status.choices, default=DevelopmentGoal.Status.ON_TRACK
    )

    class Meta:
        verbose_name = _("goal check-in")
        verbose_name_plural = _("goal check-ins")
        ordering = ["goal_id", "created_at", "id"]
        indexes = [models.Index(fields=["organization", "goal", "created_at"], name="goalcheckin_org_goal_created")]

    def __str__(self) -> str:
        return f"{self.goal} · {self.progress:.0f}%"


class KeyResultReading(TenantModel):
    """The value of one key result recorded at a check-in (its history)."""

    check_in = models.ForeignKey(GoalCheckIn, on_delete=models.CASCADE, related_name="readings")
    key_result = models.ForeignKey(KeyResult, on_delete=models.CASCADE, related_name="readings")
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("key result reading")
        verbose_name_plural = _("key result readings")
        ordering = ["check_in_id", "key_result_id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "check_in", "key_result"], name="keyresultreading_unique")
        ]


class RunMentoringEssentials(TenantModel):
    """What every mentor of a run must do: fixed by the program team.

    Beyond these essentials each mentor describes their own approach
    (:class:`MentoringApproach`); the platform does not force one template on all.
    """

    run = models.ForeignKey("programs.Run", verbose_name=_("run"), on_delete=models.CASCADE, related_name="+")
    essentials = models.TextField(
        _("essentials"), help_text=_("What must happen every time, for every mentee (one per line).")
    )

    class Meta:
        verbose_name = _("mentoring essentials of a run")
        verbose_name_plural = _("mentoring essentials of runs")
        constraints = [models.UniqueConstraint(fields=["organization", "run"], name="runessentials_unique_run")]

    def __str__(self) -> str:
        return str(self.run)


class MentoringApproach(TenantModel):
    """How one mentor chooses to mentor in one run, beside the run's essentials."""

    mentor = models.ForeignKey(Mentor, verbose_name=_("mentor"), on_delete=models.CASCADE, related_name="approaches")
    run = models.ForeignKey("programs.Run", verbose_name=_("run"), on_delete=models.CASCADE, related_name="+")
    format = models.CharField(
        _("format"), max_length=200, blank=True, help_text=_("For example: 1:1 video calls, office hours, walks.")
    )
    cadence = models.CharField(_("cadence"), max_length=200, blank=True, help_text=_("For example: every two weeks."))
    focus = models.TextField(_("focus"), blank=True, help_text=_("What you will concentrate on with your mentees."))

    class Meta:
        verbose_name = _("mentoring approach")
        verbose_name_plural = _("mentoring approaches")
        ordering = ["run_id", "mentor_id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "mentor", "run"], name="mentoringapproach_unique")
        ]

    def __str__(self) -> str:
        return f"{self.mentor} · {self.run}"


class MentoringSession(ArchivableTenantModel):
    """A one-to-one (or small group) conversation a mentor held with mentees."""

    mentor = models.ForeignKey(Mentor, verbose_name=_("mentor"), on_delete=models.PROTECT, related_name="sessions")
    held_on = models.DateField(_("date"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), default=60, validators=[MinValueValidator(5), MaxValueValidator(600)]
    )
    topics = models.CharField(_("topics"), max_length=300, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    next_steps = models.TextField(_("next steps"), blank=True)
    attendees = models.ManyToManyField(
        "programs.Enrollment",
        through="SessionAttendance",
        verbose_name=_("mentees present"),
        related_name="mentoring_sessions",
        blank=True,
    )

    class Meta:
        verbose_name = _("mentoring session")
        verbose_name_plural = _("mentoring sessions")
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["organization", "mentor", "held_on"], name="session_org_mentor_held")]

    def __str__(self) -> str:
        return f"{self.held_on:%Y-%m-%d} · {self.topics or self.mentor}"


class SessionAttendance(TenantModel):
    session = models.ForeignKey(MentoringSession, on_delete=models.CASCADE, related_name="attendance")
    enrollment = models.ForeignKey("programs.Enrollment", on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("session attendance")
        verbose_name_plural = _("session attendance")
        constraints = [
            models.UniqueConstraint(fields=["organization", "session", "enrollment"], name="sessionattendance_unique")
        ]


class SessionRating(TenantModel):
    """A mentee's rating of a session, given through a signed link (no login).

    Mentors see ratings without the rater's name.
    """

    session = models.ForeignKey(MentoringSession, on_delete=models.CASCADE, related_name="ratings")
    participant = models.ForeignKey("programs.Participant", on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField(_("score (1-5)"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("session rating")
        verbose_name_plural = _("session ratings")
        ordering = ["session_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "session", "participant"], name="sessionrating_unique")
        ]

    def __str__(self) -> str:
        return f"{self.session} · {self.score}/5"

"""Frameworks, levels, assessment windows, assessments and value-gap surveys.

Frameworks and levels carry their texts in Korean and English (``*_ko`` / ``*_en``)
because an organization's people read both; :func:`localized` picks the active
language and falls back to the other one.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from core.models import TenantModel

RATING_MIN = 1
RATING_MAX = 5
RATING_VALIDATORS = [MinValueValidator(RATING_MIN), MaxValueValidator(RATING_MAX)]


def localized(obj, field: str) -> str:
    """``obj.<field>_ko`` or ``obj.<field>_en`` for the active language, else the other one."""
    korean = (translation.get_language() or "ko").startswith("ko")
    first, second = ("ko", "en") if korean else ("en", "ko")
    return getattr(obj, f"{field}_{first}") or getattr(obj, f"{field}_{second}") or ""


class Framework(TenantModel):
    """A rubric of ordered levels, e.g. the customer-obsession levels LV.0 to LV.5."""

    class ConsensusMethod(models.TextChoices):
        MEDIAN = "median", _("Median of the ratings by others")
        MEAN = "mean", _("Mean of the ratings by others")
        LATEST = "latest", _("Latest rating by others")

    key = models.SlugField(
        _("key"), max_length=60, help_text=_("A short identifier, unique in the organization (used by the API).")
    )
    name_ko = models.CharField(_("name (Korean)"), max_length=200, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    description_ko = models.TextField(_("description (Korean)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    consensus_method = models.CharField(
        _("consensus method"),
        max_length=16,
        choices=ConsensusMethod.choices,
        default=ConsensusMethod.MEDIAN,
        help_text=_(
            "How the ratings of mentors, program managers and peers become one level. Self-ratings never count."
        ),
    )
    is_default = models.BooleanField(_("default framework"), default=False, editable=False)

    class Meta:
        verbose_name = _("framework")
        verbose_name_plural = _("frameworks")
        ordering = ["-is_default", "key"]
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="framework_unique_key")]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self, "name") or self.key

    @property
    def description(self) -> str:
        return localized(self, "description")

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if not (self.name_ko or self.name_en):
            raise ValidationError({"name_en": _("Give the framework a name in Korean or English.")})


class Level(TenantModel):
    """One step of a framework. Higher numbers are further along."""

    framework = models.ForeignKey(
        Framework, verbose_name=_("framework"), on_delete=models.CASCADE, related_name="levels"
    )
    number = models.PositiveSmallIntegerField(_("number"), validators=[MaxValueValidator(20)])
    name_ko = models.CharField(_("name (Korean)"), max_length=200, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    description_ko = models.TextField(_("description (Korean)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)

    class Meta:
        verbose_name = _("level")
        verbose_name_plural = _("levels")
        ordering = ["framework_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "framework", "number"],
                name="level_unique_number",
                violation_error_message=_("This framework already has a level with this number."),
            )
        ]

    def __str__(self) -> str:
        return f"LV.{self.number} {self.name}"

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def description(self) -> str:
        return localized(self, "description")

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if not (self.name_ko or self.name_en):
            raise ValidationError({"name_en": _("Give the level a name in Korean or English.")})


class Indicator(TenantModel):
    """An observable behaviour that shows a level, e.g. "tests prototypes with real users"."""

    level = models.ForeignKey(Level, verbose_name=_("level"), on_delete=models.CASCADE, related_name="indicators")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    text_ko = models.TextField(_("behaviour (Korean)"), blank=True)
    text_en = models.TextField(_("behaviour (English)"), blank=True)

    class Meta:
        verbose_name = _("behavioural indicator")
        verbose_name_plural = _("behavioural indicators")
        ordering = ["level_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "level", "position"], name="indicator_unique_position")
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        return localized(self, "text")

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if not (self.text_ko or self.text_en):
            raise ValidationError({"text_en": _("Describe the behaviour in Korean or English.")})


class AssessmentWindow(TenantModel):
    """A period of a run in which assessments are collected (pre, mid, post or custom)."""

    class Kind(models.TextChoices):
        PRE = "pre", _("Pre (start of the run)")
        MID = "mid", _("Mid-run")
        POST = "post", _("Post (end of the run)")
        CUSTOM = "custom", _("Custom")

    run = models.ForeignKey(
        "programs.Run", verbose_name=_("run"), on_delete=models.PROTECT, related_name="assessment_windows"
    )
    framework = models.ForeignKey(
        Framework, verbose_name=_("framework"), on_delete=models.PROTECT, related_name="windows"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PRE)
    name = models.CharField(_("name"), max_length=200, blank=True, help_text=_("Needed for custom windows."))
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"), help_text=_("After this moment nothing can be changed."))

    class Meta:
        verbose_name = _("assessment window")
        verbose_name_plural = _("assessment windows")
        ordering = ["run_id", "opens_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "run", "kind"],
                condition=~Q(kind="custom"),
                name="assessmentwindow_unique_kind",
                violation_error_message=_("This run already has a window of this kind."),
            ),
            models.UniqueConstraint(
                fields=["organization", "run", "name"],
                condition=~Q(name=""),
                name="assessmentwindow_unique_name",
                violation_error_message=_("This run already has a window with this name."),
            ),
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")),
                name="assessmentwindow_closes_after_opening",
                violation_error_message=_("A window must close after it opens."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run} · {self.label}"

    @property
    def label(self) -> str:
        return self.name or str(self.get_kind_display())

    def is_open(self, now=None) -> bool:
        now = now or timezone.now()
        return self.opens_at <= now < self.closes_at

    def has_closed(self, now=None) -> bool:
        return (now or timezone.now()) >= self.closes_at

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.kind == self.Kind.CUSTOM and not self.name:
            raise ValidationError({"name": _("Name the custom window.")})
        if self.pk is None:
            return
        stored = AssessmentWindow.objects.for_organization(self.organization).filter(pk=self.pk).first()
        if stored is None:
            return
        if stored.has_closed() and (stored.closes_at != self.closes_at or stored.opens_at != self.opens_at):
            raise ValidationError({"closes_at": _("This window has closed; its dates can no longer be changed.")})
        has_assessments = stored.assessments.exists()
        if has_assessments and (stored.framework_id != self.framework_id or stored.run_id != self.run_id):
            raise ValidationError(
                {"framework": _("Assessments were already given in this window; its run and framework stay.")}
            )


class Assessment(TenantModel):
    """One assessor's level for one subject in one window, with evidence.

    The subject is an enrollment (or a mentor). ``subject_key`` and ``assessor_key``
    are derived on save and make "one per window, subject and assessor" a plain
    unique constraint that works the same way on every database.
    """

    class Role(models.TextChoices):
        SELF = "self", _("Self")
        MENTOR = "mentor", _("Mentor")
        PM = "pm", _("Program manager")
        PEER = "peer", _("Peer")

    window = models.ForeignKey(
        AssessmentWindow, verbose_name=_("window"), on_delete=models.PROTECT, related_name="assessments"
    )
    subject_enrollment = models.ForeignKey(
        "programs.Enrollment",
        verbose_name=_("subject (enrollment)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assessments",
    )
    subject_mentor = models.ForeignKey(
        "mentors.Mentor",
        verbose_name=_("subject (mentor)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assessments_as_subject",
    )
    assessor_role = models.CharField(_("assessor role"), max_length=16, choices=Role.choices)
    assessor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assessor (user)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    assessor_mentor = models.ForeignKey(
        "mentors.Mentor",
        verbose_name=_("assessor (mentor)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assessments_given",
    )
    assessor_enrollment = models.ForeignKey(
        "programs.Enrollment",
        verbose_name=_("assessor (peer enrollment)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="peer_assessments_given",
    )
    level = models.ForeignKey(Level, verbose_name=_("level"), on_delete=models.PROTECT, related_name="assessments")
    notes = models.TextField(_("evidence notes"), blank=True)
    links = models.JSONField(_("evidence links"), default=list, blank=True)
    subject_key = models.CharField(max_length=40, editable=False)
    assessor_key = models.CharField(max_length=40, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["window_id", "subject_key", "assessor_role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "window", "subject_key", "assessor_key"],
                name="assessment_one_per_window_subject_assessor",
                violation_error_message=_("This assessor has already assessed this subject in this window."),
            ),
            models.CheckConstraint(
                condition=Q(subject_enrollment__isnull=False, subject_mentor__isnull=True)
                | Q(subject_enrollment__isnull=True, subject_mentor__isnull=False),
                name="assessment_subject_enrollment_xor_mentor",
                violation_error_message=_("The subject is either an enrollment or a mentor."),
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "window", "assessor_role"], name="assessment_org_window_role"),
            # Cursor pages by id within one organization, without walking other tenants' rows.
            models.Index(fields=["organization", "id"], name="assessment_org_id"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} · {self.get_assessor_role_display()} · LV.{self.level.number}"

    @property
    def subject(self):
        return self.subject_enrollment or self.subject_mentor

    def compute_keys(self) -> None:
        if self.subject_enrollment_id:
            self.subject_key = f"enrollment:{self.subject_enrollment_id}"
        elif self.subject_mentor_id:
            self.subject_key = f"mentor:{self.subject_mentor_id}"
        role = self.assessor_role
        if role == self.Role.SELF:
            self.assessor_key = "self"
        elif role == self.Role.MENTOR:
            self.assessor_key = f"mentor:{self.assessor_mentor_id}"
        elif role == self.Role.PEER:
            self.assessor_key = f"peer:{self.assessor_enrollment_id}"
        else:
            self.assessor_key = f"user:{self.assessor_user_id}"

    def clean(self) -> None:
        self.compute_keys()

    def save(self, *args, **kwargs):
        self.compute_keys()
        super().save(*args, **kwargs)


class Observation(TenantModel):
    """A behavioural indicator the assessor saw, with an optional note."""

    assessment = models.ForeignKey(
        Assessment, verbose_name=_("assessment"), on_delete=models.CASCADE, related_name="observations"
    )
    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.PROTECT, related_name="observations"
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("observation")
        verbose_name_plural = _("observations")
        ordering = ["assessment_id", "indicator_id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "assessment", "indicator"], name="observation_unique")
        ]

    def __str__(self) -> str:
        return str(self.indicator)


class EvidenceReference(TenantModel):
    """A check-in or help request of the subject that supports an assessment."""

    assessment = models.ForeignKey(
        Assessment, verbose_name=_("assessment"), on_delete=models.CASCADE, related_name="references"
    )
    check_in = models.ForeignKey(
        "programs.CheckIn",
        verbose_name=_("check-in"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    help_request = models.ForeignKey(
        "programs.HelpRequest",
        verbose_name=_("help request"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("evidence reference")
        verbose_name_plural = _("evidence references")
        ordering = ["assessment_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(check_in__isnull=False, help_request__isnull=True)
                | Q(check_in__isnull=True, help_request__isnull=False),
                name="evidencereference_checkin_xor_helprequest",
            ),
            models.UniqueConstraint(
                fields=["organization", "assessment", "check_in"],
                condition=Q(check_in__isnull=False),
                name="evidencereference_unique_checkin",
            ),
            models.UniqueConstraint(
                fields=["organization", "assessment", "help_request"],
                condition=Q(help_request__isnull=False),
                name="evidencereference_unique_helprequest",
            ),
        ]

    def __str__(self) -> str:
        return str(self.check_in or self.help_request)


class AssessmentVersion(TenantModel):
    """A frozen copy of an assessment as it was submitted; one per submission or revision."""

    assessment = models.ForeignKey(
        Assessment, verbose_name=_("assessment"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    level_number = models.PositiveSmallIntegerField(_("level"))
    snapshot = models.JSONField(_("snapshot"), default=dict)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("assessment version")
        verbose_name_plural = _("assessment versions")
        ordering = ["assessment_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "assessment", "number"], name="assessmentversion_unique")
        ]

    def __str__(self) -> str:
        return f"v{self.number} · LV.{self.level_number}"


# --- Value-gap surveys -------------------------------------------------------------


class ValueSurvey(TenantModel):
    """Asks participants and mentors what they value, to compare it with what the organization believes."""

    program = models.ForeignKey(
        "programs.Program", verbose_name=_("program"), on_delete=models.PROTECT, related_name="value_surveys"
    )
    run = models.ForeignKey(
        "programs.Run",
        verbose_name=_("run"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="value_surveys",
        help_text=_("Optional: the cohort asked. Leave empty for a program-wide survey."),
    )
    milestone = models.ForeignKey(
        "programs.Milestone",
        verbose_name=_("stage (milestone)"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="value_surveys",
        help_text=_(
            "Optional: feedback for one stage of the run. The survey opens, and its invitations go out, "
            "on the milestone's due date."
        ),
    )
    title = models.CharField(_("title"), max_length=200)
    introduction = models.TextField(_("introduction"), blank=True)
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    is_anonymous = models.BooleanField(
        _("anonymous"),
        default=False,
        help_text=_("Answers are stored without who gave them; reports hide groups of fewer than three people."),
    )
    ask_participants = models.BooleanField(_("ask participants"), default=True)
    ask_mentors = models.BooleanField(_("ask mentors"), default=True)

    class Meta:
        verbose_name = _("value-gap survey")
        verbose_name_plural = _("value-gap surveys")
        ordering = ["-opens_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "program", "title"],
                name="valuesurvey_unique_title",
                violation_error_message=_("This program already has a survey with this title."),
            ),
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")),
                name="valuesurvey_closes_after_opening",
                violation_error_message=_("A survey must close after it opens."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def is_open(self, now=None) -> bool:
        now = now or timezone.now()
        return self.opens_at <= now < self.closes_at

    def stage_opens_at(self):
        """The start of the stage's (milestone's) due date, local to the organization; None without a stage."""
        if not self.milestone_id:
            return None
        import datetime
        import zoneinfo

        try:
            organization = self.organization if self.organization_id else self.milestone.organization
            zone = zoneinfo.ZoneInfo(organization.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo("Asia/Seoul")
        return datetime.datetime.combine(self.milestone.due_on, datetime.time(), tzinfo=zone)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.run_id and self.program_id and self.run.program_id != self.program_id:
            raise ValidationError({"run": _("The run belongs to another program.")})
        if self.milestone_id:
            if not self.run_id:
                raise ValidationError({"run": _("Choose the run of the milestone for a stage survey.")})
            if self.milestone.run_id != self.run_id:
                raise ValidationError({"milestone": _("The milestone belongs to another run.")})
            # A stage survey opens when its stage is reached: the start of the milestone's
            # due date in the organization's time zone.
            self.opens_at = self.stage_opens_at()
        if not (self.ask_participants or self.ask_mentors):
            raise ValidationError({"ask_participants": _("Ask participants, mentors or both.")})


class ValueStatement(TenantModel):
    """A value the organization believes it delivers, and how important it predicts it is."""

    class Tier(models.TextChoices):
        ESSENTIAL = "essential", _("Essential")
        ENABLER = "enabler", _("Enabler")
        ENERGIZER = "energizer", _("Energizer")

    survey = models.ForeignKey(
        ValueSurvey, verbose_name=_("survey"), on_delete=models.CASCADE, related_name="statements"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    text = models.CharField(_("value statement"), max_length=300)
    tier = models.CharField(_("tier"), max_length=16, choices=Tier.choices, default=Tier.ESSENTIAL)
    predicted_importance = models.PositiveSmallIntegerField(
        _("predicted importance (1-5)"), validators=RATING_VALIDATORS
    )

    class Meta:
        verbose_name = _("value statement")
        verbose_name_plural = _("value statements")
        ordering = ["survey_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "survey", "text"],
                name="valuestatement_unique_text",
                violation_error_message=_("This survey already lists this statement."),
            ),
            models.CheckConstraint(
                condition=Q(predicted_importance__gte=RATING_MIN, predicted_importance__lte=RATING_MAX),
                name="valuestatement_predicted_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.text


class SurveyResponse(TenantModel):
    """One person's answers to a value-gap survey.

    ``respondent_key`` makes "one answer per person" enforceable. In an anonymous
    survey it is a keyed hash and the enrollment and mentor stay empty, so nothing
    stored says who answered what.
    """

    class RespondentKind(models.TextChoices):
        PARTICIPANT = "participant", _("Participant (primary customer)")
        MENTOR = "mentor", _("Mentor (supporting customer)")

    survey = models.ForeignKey(
        ValueSurvey, verbose_name=_("survey"), on_delete=models.PROTECT, related_name="responses"
    )
    respondent_kind = models.CharField(_("respondent"), max_length=16, choices=RespondentKind.choices)
    respondent_key = models.CharField(max_length=80, editable=False)
    enrollment = models.ForeignKey(
        "programs.Enrollment",
        verbose_name=_("enrollment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="value_survey_responses",
    )
    mentor = models.ForeignKey(
        "mentors.Mentor",
        verbose_name=_("mentor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="value_survey_responses",
    )
    own_values = models.TextField(_("what do you value?"), blank=True)
    improve = models.TextField(_("what should we improve?"), blank=True)
    stop = models.TextField(_("what should we stop?"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["survey_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "survey", "respondent_key"],
                name="surveyresponse_one_per_respondent",
                violation_error_message=_("This person has already answered this survey."),
            )
        ]

    def __str__(self) -> str:
        if self.survey.is_anonymous:
            return f"{self.survey} · {self.get_respondent_kind_display()} #{self.pk}"
        return f"{self.survey} · {self.enrollment or self.mentor}"


class StatementRating(TenantModel):
    """Importance and satisfaction (1-5) that one respondent gave one value statement."""

    response = models.ForeignKey(
        SurveyResponse, verbose_name=_("response"), on_delete=models.CASCADE, related_name="ratings"
    )
    statement = models.ForeignKey(
        ValueStatement, verbose_name=_("value statement"), on_delete=models.PROTECT, related_name="ratings"
    )
    importance = models.PositiveSmallIntegerField(_("importance (1-5)"), validators=RATING_VALIDATORS)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction (1-5)"), validators=RATING_VALIDATORS)

    class Meta:
        verbose_name = _("statement rating")
        verbose_name_plural = _("statement ratings")
        ordering = ["response_id", "statement_id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "response", "statement"], name="statementrating_unique"),
            models.CheckConstraint(
                condition=Q(importance__gte=RATING_MIN, importance__lte=RATING_MAX)
                & Q(satisfaction__gte=RATING_MIN, satisfaction__lte=RATING_MAX),
                name="statementrating_in_range",
            ),
        ]

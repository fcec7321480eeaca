"""Programs, runs (cohorts), participants, enrollments, milestones, check-ins, help requests."""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import ArchivableTenantModel, TenantModel
from programs.vocabulary import Area, Industry, Stage, clean_codes


def new_calendar_token() -> str:
    """A secret for the iCalendar feed URL of a run (rotate it to revoke old subscriptions)."""
    return secrets.token_urlsafe(24)


class Program(TenantModel):
    """A repeatable offering with the value it promises."""

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    promised_value = models.TextField(_("promised value"), blank=True, help_text=_("What participants should gain."))

    class Meta:
        verbose_name = _("program")
        verbose_name_plural = _("programs")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="program_unique_name")]

    def __str__(self) -> str:
        return self.name


class Run(TenantModel):
    """One cohort of a program, with dates and a final deadline (e.g. demo day)."""

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("run status", "Draft")
        ACTIVE = "active", pgettext_lazy("run status", "Active")
        FINISHED = "finished", pgettext_lazy("run status", "Finished")

    program = models.ForeignKey(Program, verbose_name=_("program"), on_delete=models.PROTECT, related_name="runs")
    name = models.CharField(_("name"), max_length=200)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    final_deadline = models.DateField(_("final deadline"), help_text=_("For example demo day."))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    checkin_cadence_days = models.PositiveSmallIntegerField(
        _("check-in cadence (days)"), default=7, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )
    skip_non_working_days = models.BooleanField(
        _("avoid weekends and holidays"),
        default=True,
        help_text=_("Move a milestone that falls on a weekend or public holiday to the working day before."),
    )
    calendar_token = models.CharField(
        _("calendar secret"),
        max_length=64,
        default=new_calendar_token,
        editable=False,
        help_text=_("Part of the secret URL of the run's calendar feed."),
    )

    class Meta:
        verbose_name = _("run")
        verbose_name_plural = _("runs")
        ordering = ["-starts_on", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "program", "name"], name="run_unique_name"),
            models.UniqueConstraint(fields=["organization", "calendar_token"], name="run_unique_calendar_token"),
        ]
        indexes = [
            models.Index(fields=["organization", "status"], name="run_org_status"),
            # The API's default page order within one organization (cursor pages).
            models.Index(fields=["organization", "-starts_on", "id"], name="run_org_starts_id"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("The run cannot end before it starts.")
        if self.starts_on and self.final_deadline and self.final_deadline < self.starts_on:
            errors["final_deadline"] = _("The final deadline cannot be before the run starts.")
        elif self.ends_on and self.final_deadline and self.final_deadline > self.ends_on:
            errors["final_deadline"] = _("The final deadline cannot be after the run ends.")
        if errors:
            raise ValidationError(errors)


class Participant(TenantModel):
    """A founder: a primary customer. Needs no login."""

    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    stage = models.CharField(_("stage"), max_length=100, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="ko")

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"], condition=~Q(email=""), name="participant_unique_email"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        # Email is how imports recognise a participant again; compare it case-blind.
        self.email = (self.email or "").strip().lower()


class Team(TenantModel):
    name = models.CharField(_("name"), max_length=200)
    members = models.ManyToManyField(
        Participant, through="TeamMembership", verbose_name=_("members"), related_name="teams", blank=True
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="team_unique_name")]

    def __str__(self) -> str:
        return self.name


class TeamMembership(TenantModel):
    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="memberships")
    participant = models.ForeignKey(
        Participant, verbose_name=_("participant"), on_delete=models.CASCADE, related_name="team_memberships"
    )

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [
            models.UniqueConstraint(fields=["organization", "team", "participant"], name="teammembership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.participant} @ {self.team}"


class Enrollment(ArchivableTenantModel):
    """A participant or a team in a run, with their own definition of success."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        DROPPED = "dropped", _("Dropped")

    run = models.ForeignKey(Run, verbose_name=_("run"), on_delete=models.PROTECT, related_name="enrollments")
    participant = models.ForeignKey(
        Participant,
        verbose_name=_("participant"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enrollments",
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.PROTECT, null=True, blank=True, related_name="enrollments"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    success_definition = models.TextField(
        _("definition of success"), blank=True, help_text=_("In the participant's own words.")
    )
    commitments = models.TextField(_("commitments"), blank=True, help_text=_("What the participant commits to do."))
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    # What the participant (or team) needs from mentoring in this run: per enrollment, because
    # needs and stage change from one run to the next, and teams enroll as one.
    needs = models.JSONField(_("what they need help with"), default=list, blank=True)
    industry = models.CharField(_("industry"), max_length=32, choices=Industry.choices, blank=True)
    stage = models.CharField(_("stage"), max_length=32, choices=Stage.choices, blank=True)
    mentor_wish = models.TextField(
        _("what they want from a mentor"), blank=True, help_text=_("In the participant's own words.")
    )

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        ordering = ["run_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(participant__isnull=False, team__isnull=True)
                | Q(participant__isnull=True, team__isnull=False),
                name="enrollment_participant_xor_team",
                violation_error_message=_("An enrollment is for either a participant or a team."),
            ),
            models.UniqueConstraint(
                fields=["organization", "run", "participant"],
                condition=Q(participant__isnull=False),
                name="enrollment_unique_participant",
                violation_error_message=_("This participant is already enrolled in this run."),
            ),
            models.UniqueConstraint(
                fields=["organization", "run", "team"],
                condition=Q(team__isnull=False),
                name="enrollment_unique_team",
                violation_error_message=_("This team is already enrolled in this run."),
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "run", "status"], name="enrollment_org_run_status"),
            # Cursor pages by id within one organization, without walking other tenants' rows.
            models.Index(fields=["organization", "id"], name="enrollment_org_id"),
        ]

    def __str__(self) -> str:
        return str(self.participant or self.team or "?")

    def clean(self) -> None:
        super().clean()
        if bool(self.participant_id) == bool(self.team_id):
            raise ValidationError(_("An enrollment is for either a participant or a team."))
        self.needs = clean_codes(self.needs, Area, "needs")

    @property
    def language(self) -> str:
        """The language of the participant's pages and mails (a team uses the organization's)."""
        if self.participant_id:
            return self.participant.language
        return self.organization.language


class MentorAssignment(TenantModel):
    """A mentor assigned to a run, and optionally to one enrollment in it."""

    run = models.ForeignKey(Run, verbose_name=_("run"), on_delete=models.CASCADE, related_name="mentor_assignments")
    mentor = models.ForeignKey(
        "mentors.Mentor", verbose_name=_("mentor"), on_delete=models.CASCADE, related_name="assignments"
    )
    enrollment = models.ForeignKey(
        Enrollment,
        verbose_name=_("enrollment"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="mentor_assignments",
    )

    class Meta:
        verbose_name = _("mentor assignment")
        verbose_name_plural = _("mentor assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "run", "mentor", "enrollment"], name="mentorassignment_unique"
            ),
            # NULLs are distinct in unique constraints: a run-wide assignment needs its own.
            models.UniqueConstraint(
                fields=["organization", "run", "mentor"],
                condition=Q(enrollment__isnull=True),
                name="mentorassignment_unique_run_wide",
                violation_error_message=_("This mentor is already assigned to this run."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mentor} → {self.enrollment or self.run}"

    def clean(self) -> None:
        super().clean()
        if self.enrollment_id and self.run_id and self.enrollment.run_id != self.run_id:
            raise ValidationError({"enrollment": _("This enrollment is not part of this run.")})


class MilestoneTemplate(TenantModel):
    """A milestone of a program, placed N days before the final deadline."""

    program = models.ForeignKey(
        Program, verbose_name=_("program"), on_delete=models.CASCADE, related_name="milestone_templates"
    )
    name = models.CharField(_("name"), max_length=200)
    deliverable = models.TextField(_("deliverable"), blank=True)
    days_before_deadline = models.PositiveSmallIntegerField(_("days before the deadline (D-n)"))

    class Meta:
        verbose_name = _("milestone template")
        verbose_name_plural = _("milestone templates")
        ordering = ["program_id", "-days_before_deadline"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "program", "name"], name="milestonetemplate_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} (D-{self.days_before_deadline})"


class Milestone(TenantModel):
    """A dated deliverable of a run, planned backwards from its final deadline."""

    run = models.ForeignKey(Run, verbose_name=_("run"), on_delete=models.CASCADE, related_name="milestones")
    template = models.ForeignKey(
        MilestoneTemplate, verbose_name=_("template"), on_delete=models.SET_NULL, null=True, blank=True
    )
    name = models.CharField(_("name"), max_length=200)
    deliverable = models.TextField(_("deliverable"), blank=True)
    days_before_deadline = models.PositiveSmallIntegerField(_("days before the deadline (D-n)"))
    due_on = models.DateField(_("due on"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    # Set once when the milestone first passes its due date unfinished, so that the
    # `milestone.overdue` event goes out exactly once (a moved deadline clears it).
    overdue_announced_at = models.DateTimeField(_("overdue announced at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["run_id", "due_on", "id"]
        constraints = [models.UniqueConstraint(fields=["organization", "run", "name"], name="milestone_unique_name")]
        indexes = [models.Index(fields=["organization", "due_on"], name="milestone_org_due")]

    def __str__(self) -> str:
        return f"{self.name} (D-{self.days_before_deadline})"


class MilestoneProgress(TenantModel):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("Not started")
        IN_PROGRESS = "in_progress", _("In progress")
        SUBMITTED = "submitted", _("Submitted")
        DONE = "done", _("Done")

    enrollment = models.ForeignKey(
        Enrollment, verbose_name=_("enrollment"), on_delete=models.CASCADE, related_name="milestone_progress"
    )
    milestone = models.ForeignKey(
        Milestone, verbose_name=_("milestone"), on_delete=models.CASCADE, related_name="progress"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NOT_STARTED)
    evidence_url = models.URLField(_("evidence link"), blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("milestone progress")
        verbose_name_plural = _("milestone progress")
        constraints = [
            models.UniqueConstraint(fields=["organization", "enrollment", "milestone"], name="milestoneprogress_unique")
        ]

    def __str__(self) -> str:
        return f"{self.milestone} · {self.get_status_display()}"

    def clean(self) -> None:
        super().clean()
        if self.milestone_id and self.enrollment_id and self.milestone.run_id != self.enrollment.run_id:
            raise ValidationError({"milestone": _("This milestone belongs to another run.")})


class CheckIn(ArchivableTenantModel):
    """A short progress update from a participant."""

    enrollment = models.ForeignKey(
        Enrollment, verbose_name=_("enrollment"), on_delete=models.CASCADE, related_name="check_ins"
    )
    done = models.TextField(_("what I did"))
    next = models.TextField(_("what I will do next"), blank=True)
    blockers = models.TextField(_("blockers"), blank=True)
    confidence = models.PositiveSmallIntegerField(
        _("confidence (1-5)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "enrollment", "-created_at"], name="checkin_org_enr_created")]

    def __str__(self) -> str:
        return self.done[:60]


class HelpRequest(ArchivableTenantModel):
    """Asking for help early, in AID form: Act, Impact, Desired outcome."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")
        RESOLVED = "resolved", _("Resolved")

    enrollment = models.ForeignKey(
        Enrollment, verbose_name=_("enrollment"), on_delete=models.CASCADE, related_name="help_requests"
    )
    act = models.TextField(_("act"), help_text=_("What happened, or what I did."))
    impact = models.TextField(_("impact"), help_text=_("Why it matters: what it affects."))
    desired_outcome = models.TextField(_("desired outcome"), help_text=_("What help would look like."))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("help request")
        verbose_name_plural = _("help requests")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "status"], name="helprequest_org_status")]

    def __str__(self) -> str:
        return self.act[:60]

    @property
    def time_to_first_response(self):
        """How long the participant waited for the first reply (None while nobody answered)."""
        if self.first_response_at is None:
            return None
        return self.first_response_at - self.created_at


class HelpRequestReply(TenantModel):
    help_request = models.ForeignKey(
        HelpRequest, verbose_name=_("help request"), on_delete=models.CASCADE, related_name="replies"
    )
    mentor = models.ForeignKey(
        "mentors.Mentor", verbose_name=_("mentor"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    body = models.TextField(_("reply"))

    class Meta:
        verbose_name = _("help request reply")
        verbose_name_plural = _("help request replies")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.body[:60]

"""Reads of the notifications app. Every function takes the organization explicitly.

:func:`planning_data` loads, in a fixed number of queries, everything the planner
needs about one organization; the planner then evaluates its rules in memory for any
moment (now, or each day of the 14-day preview).
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import Max, Q, QuerySet

from assessments.models import SurveyResponse, ValueSurvey
from core.models import Membership, Organization
from mentors.models import Mentor
from notifications.models import (
    AlimTalkTemplate,
    ChannelCredentials,
    ChannelProfile,
    DeliveryAttempt,
    Notification,
    NotificationSettings,
    Unsubscribe,
)
from programs.models import (
    Enrollment,
    HelpRequest,
    HelpRequestReply,
    MentorAssignment,
    Milestone,
    MilestoneProgress,
    Participant,
    Run,
    TeamMembership,
)

logger = logging.getLogger(__name__)

# How far ahead of today milestones are loaded: the preview horizon plus the longest lead time.
MILESTONE_LOOKAHEAD_DAYS = 14 + 60 + 21


def notification_settings_for(*, organization: Organization) -> NotificationSettings:
    """The organization's settings, or unsaved defaults (reading never writes)."""
    found = NotificationSettings.objects.for_organization(organization).first()
    return found or NotificationSettings(organization=organization)


@dataclass(frozen=True)
class Person:
    """Someone a message can be addressed to."""

    email: str
    name: str
    language: str
    phone: str = ""  # participants: for KakaoTalk and text messages
    audience: str = "staff"  # "participant" or "staff" (mentors, program managers): the channels offered

    @classmethod
    def of_user(cls, user) -> Person:
        return cls(email=user.email.strip().lower(), name=user.name or user.email, language=user.language)

    @classmethod
    def of_participant(cls, participant) -> Person:
        return cls(
            email=participant.email.strip().lower(),
            name=participant.name,
            language=participant.language,
            phone=getattr(participant, "phone", "") or "",
            audience="participant",
        )


@dataclass
class PlanningData:
    """One organization's state as the reminder rules need it."""

    organization: Organization
    settings: NotificationSettings
    today: datetime.date
    runs: dict = field(default_factory=dict)  # id -> Run (active runs only)
    enrollments: list = field(default_factory=list)
    people_of_enrollment: dict = field(default_factory=lambda: defaultdict(list))  # enrollment id -> [Person]
    direct_mentors_of_enrollment: dict = field(default_factory=lambda: defaultdict(list))
    run_wide_mentors: dict = field(default_factory=lambda: defaultdict(list))  # run id -> [Mentor]
    milestones: list = field(default_factory=list)
    finished: set = field(default_factory=set)  # (enrollment id, milestone id) submitted or done
    help_requests: list = field(default_factory=list)
    program_managers: list = field(default_factory=list)  # [Person]
    unsubscribed: set = field(default_factory=set)  # (email, kind)
    windows: list = field(default_factory=list)
    assessed: set = field(default_factory=set)  # (window id, enrollment id, "self" | "mentor:<id>")
    goals: list = field(default_factory=list)
    mentors_of_run: dict = field(default_factory=lambda: defaultdict(dict))  # run id -> {mentor id: Mentor}
    replies: list = field(default_factory=list)  # recent answers to help requests
    surveys: list = field(default_factory=list)  # value-gap surveys open (or opening) now
    survey_answered: set = field(default_factory=set)  # (survey id, respondent key)
    credentials: ChannelCredentials | None = None
    channel_profiles: dict = field(default_factory=dict)  # email -> ChannelProfile
    alimtalk_templates: dict = field(default_factory=dict)  # (kind, language) -> AlimTalkTemplate (in use)

    def mentor_person(self, mentor) -> Person:
        return Person.of_user(mentor.user)

    def mentors_for(self, enrollment) -> list:
        """The same routing as help requests: the enrollment's own mentors, else the run's."""
        return self.direct_mentors_of_enrollment.get(enrollment.id) or self.run_wide_mentors.get(enrollment.run_id, [])

    def enrollment_label(self, enrollment) -> str:
        return str(enrollment.participant or enrollment.team or "?")


def _optional_model(app_label: str, model_name: str):
    """A model of an app that may not have it yet (apps land in parallel); None if absent."""
    try:
        return apps.get_model(app_label, model_name)
    except LookupError:
        return None


def _has_fields(model, *names: str) -> bool:
    from django.core.exceptions import FieldDoesNotExist

    try:
        for name in names:
            model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def planning_data(
    *, organization: Organization, today: datetime.date, settings: NotificationSettings | None = None
) -> PlanningData:
    """Everything the rules need, in a fixed number of queries however many rows there are."""
    data = PlanningData(
        organization=organization,
        settings=settings or notification_settings_for(organization=organization),
        today=today,
    )
    _load_channels(data)
    data.runs = {
        run.id: run
        for run in Run.objects.for_organization(organization).filter(status=Run.Status.ACTIVE).select_related("program")
    }
    run_ids = list(data.runs)

    data.enrollments = list(
        Enrollment.objects.for_organization(organization)
        .filter(run_id__in=run_ids, status=Enrollment.Status.ACTIVE, archived_at__isnull=True)
        .select_related("participant", "team")
        .order_by("run_id", "id")
    )
    team_ids = [e.team_id for e in data.enrollments if e.team_id]
    members_of_team = defaultdict(list)
    if team_ids:
        for membership in (
            TeamMembership.objects.for_organization(organization)
            .filter(team_id__in=team_ids)
            .select_related("participant")
            .order_by("participant__name", "participant_id")
        ):
            members_of_team[membership.team_id].append(membership.participant)
    for enrollment in data.enrollments:
        participants = [enrollment.participant] if enrollment.participant_id else members_of_team[enrollment.team_id]
        data.people_of_enrollment[enrollment.id] = [Person.of_participant(p) for p in participants if p.email]

    assignments = list(
        MentorAssignment.objects.for_organization(organization)
        .filter(run_id__in=run_ids, mentor__status=Mentor.Status.ACTIVE, mentor__user__is_active=True)
        .select_related("mentor", "mentor__user")
        .order_by("mentor__user__name", "mentor_id", "id")
    )
    for assignment in assignments:
        if assignment.enrollment_id:
            data.direct_mentors_of_enrollment[assignment.enrollment_id].append(assignment.mentor)
        else:
            data.run_wide_mentors[assignment.run_id].append(assignment.mentor)
        data.mentors_of_run[assignment.run_id].setdefault(assignment.mentor_id, assignment.mentor)

    data.milestones = list(
        Milestone.objects.for_organization(organization)
        .filter(
            run_id__in=run_ids,
            completed_at__isnull=True,
            due_on__lte=today + datetime.timedelta(days=MILESTONE_LOOKAHEAD_DAYS),
        )
        .order_by("due_on", "id")
    )
    data.finished = set(
        MilestoneProgress.objects.for_organization(organization)
        .filter(
            milestone__in=[m.id for m in data.milestones],
            status__in=[MilestoneProgress.Status.SUBMITTED, MilestoneProgress.Status.DONE],
        )
        .values_list("enrollment_id", "milestone_id")
    )

    data.help_requests = list(
        HelpRequest.objects.for_organization(organization)
        .filter(
            enrollment__run_id__in=run_ids,
            status=HelpRequest.Status.OPEN,
            first_response_at__isnull=True,
            archived_at__isnull=True,
        )
        .select_related("enrollment", "enrollment__participant", "enrollment__team")
        .order_by("created_at", "id")
    )

    data.program_managers = [
        Person.of_user(m.user)
        for m in Membership.objects.for_organization(organization)
        .filter(role__gte=Membership.Role.PROGRAM_MANAGER, user__is_active=True)
        .select_related("user")
        .order_by("user__email")
    ]
    data.unsubscribed = set(Unsubscribe.objects.for_organization(organization).values_list("email", "kind"))
    _load_assessment_windows(data, run_ids)
    _load_goals(data)
    _load_replies(data, run_ids)
    _load_surveys(data)
    return data


# Answers to help requests and welcomes older than this are not sent any more (a planner
# that was down for a day still sends them; a new rule does not mail the whole history).
RECENT_MESSAGE_DAYS = 7


def _load_replies(data: PlanningData, run_ids: list[int]) -> None:
    since = datetime.datetime.combine(data.today, datetime.time(), tzinfo=datetime.UTC) - datetime.timedelta(
        days=RECENT_MESSAGE_DAYS + 1
    )
    data.replies = list(
        HelpRequestReply.objects.for_organization(data.organization)
        .filter(
            help_request__enrollment__run_id__in=run_ids,
            help_request__archived_at__isnull=True,
            created_at__gte=since,
        )
        .select_related("help_request", "mentor__user", "author")
        .order_by("created_at", "id")
    )


def _load_surveys(data: PlanningData) -> None:
    """Value-gap surveys of the active runs' programs that are open (or open within the horizon)."""
    program_ids = {run.program_id for run in data.runs.values()}
    if not program_ids:
        return
    today_start = datetime.datetime.combine(data.today, datetime.time(), tzinfo=datetime.UTC)
    data.surveys = list(
        ValueSurvey.objects.for_organization(data.organization)
        .filter(program_id__in=program_ids, closes_at__gt=today_start - datetime.timedelta(days=1))
        .filter(opens_at__lt=today_start + datetime.timedelta(days=30))
        .filter(Q(run__isnull=True) | Q(run_id__in=list(data.runs)))
        .order_by("opens_at", "id")
    )
    if data.surveys:
        data.survey_answered = set(
            SurveyResponse.objects.for_organization(data.organization)
            .filter(survey__in=[s.id for s in data.surveys])
            .values_list("survey_id", "respondent_key")
        )


def unsubscribes_of(*, organization: Organization, email: str) -> list[tuple[str, str]]:
    return list(
        Unsubscribe.objects.for_organization(organization)
        .filter(email=email.strip().lower())
        .values_list("email", "kind")
    )


def active_enrollments_of_email(*, organization: Organization, email: str) -> list[tuple]:
    """(enrollment, Person) for every active enrollment of this address, alone or in a team; [] if none.

    Active: the enrollment is active and not archived, its run not finished.
    """
    email = (email or "").strip()
    if not email:
        return []
    participants = {
        p.id: p for p in Participant.objects.for_organization(organization).filter(email__iexact=email).order_by("id")
    }
    if not participants:
        return []
    team_of = defaultdict(list)
    for membership in TeamMembership.objects.for_organization(organization).filter(participant_id__in=participants):
        team_of[membership.team_id].append(membership.participant_id)
    enrollments = (
        Enrollment.objects.for_organization(organization)
        .filter(Q(participant_id__in=participants) | Q(team_id__in=list(team_of)))
        .filter(status=Enrollment.Status.ACTIVE, archived_at__isnull=True)
        .exclude(run__status=Run.Status.FINISHED)
        .select_related("run", "run__program")
        .order_by("id")
    )
    found = []
    for enrollment in enrollments:
        ids = [enrollment.participant_id] if enrollment.participant_id else team_of[enrollment.team_id]
        for participant_id in ids[:1]:
            found.append((enrollment, Person.of_participant(participants[participant_id])))
    return found


def _load_assessment_windows(data: PlanningData, run_ids: list[int]) -> None:
    """Assessment windows of active runs and who has already assessed (if the app has them)."""
    window_model = _optional_model("assessments", "AssessmentWindow")
    assessment_model = _optional_model("assessments", "Assessment")
    if window_model is None or assessment_model is None:
        return
    if not _has_fields(window_model, "run", "opens_at", "closes_at") or not _has_fields(
        assessment_model, "window", "subject_enrollment", "assessor_role", "assessor_mentor"
    ):
        logger.warning("assessments models lack the fields reminders read; assessment reminders are off")
        return
    organization = data.organization
    horizon = datetime.timedelta(days=30)
    today_start = datetime.datetime.combine(data.today, datetime.time(), tzinfo=datetime.UTC)
    data.windows = list(
        window_model.objects.for_organization(organization)
        .filter(run_id__in=run_ids, closes_at__gt=today_start - datetime.timedelta(days=1))
        .filter(opens_at__lt=today_start + horizon)
        .order_by("opens_at", "id")
    )
    if not data.windows:
        return
    for window_id, enrollment_id, role, mentor_id in (
        assessment_model.objects.for_organization(organization)
        .filter(window__in=[w.id for w in data.windows], subject_enrollment__isnull=False)
        .values_list("window_id", "subject_enrollment_id", "assessor_role", "assessor_mentor_id")
    ):
        data.assessed.add((window_id, enrollment_id, "self" if role == "self" else f"{role}:{mentor_id}"))


def _load_goals(data: PlanningData) -> None:
    """Open development goals of active mentors, with their last check-in (if the app has them)."""
    goal_model = _optional_model("mentors", "DevelopmentGoal")
    if goal_model is None or not _has_fields(goal_model, "mentor", "checkin_cadence_days", "status"):
        return

    queryset = goal_model.objects.for_organization(data.organization).filter(
        mentor__status=Mentor.Status.ACTIVE, mentor__user__is_active=True
    )
    if _has_fields(goal_model, "archived_at"):
        queryset = queryset.filter(archived_at__isnull=True)
    done = getattr(getattr(goal_model, "Status", None), "DONE", None)
    if done is not None:
        queryset = queryset.exclude(status=done)
    if _has_fields(goal_model, "check_ins"):
        queryset = queryset.annotate(last_check_in_at=Max("check_ins__created_at"))
    data.goals = list(queryset.select_related("mentor", "mentor__user").order_by("id"))


# --- The outbox ---------------------------------------------------------------------------


def outbox(*, organization: Organization) -> QuerySet[Notification]:
    return Notification.objects.for_organization(organization).select_related("run")


def notification_get(*, organization: Organization, notification_id: int) -> Notification | None:
    return outbox(organization=organization).filter(pk=notification_id).first()


def existing_keys(*, organization: Organization, slots: set[str], subject_keys: set[str]) -> dict[tuple, str]:
    """Unique keys (kind, subject, slot, channel, recipient) already in the outbox, with their status."""
    if not slots:
        return {}
    rows = (
        Notification.objects.for_organization(organization)
        .filter(slot__in=slots, subject_key__in=subject_keys)
        .values_list("kind", "subject_key", "slot", "channel", "recipient", "status")
    )
    return {row[:5]: row[5] for row in rows}


def organization_ids_with_due_notifications(*, now: datetime.datetime, lease: datetime.timedelta) -> list[int]:
    """Organizations with pending rows due now, or rows left ``sending`` longer than ``lease``.

    The one cross-organization read of this app: it returns only organization ids,
    for the beat task that starts one relay per organization.
    """
    due = Q(status=Notification.Status.PENDING, next_attempt_at__lte=now)
    lost = Q(status=Notification.Status.SENDING, claimed_at__lt=now - lease)
    return list(
        Notification.objects.dangerously_all_organizations()
        .filter(due | lost)
        .values_list("organization_id", flat=True)
        .distinct()
        .order_by("organization_id")
    )


@dataclass(frozen=True)
class DeliveryHealth:
    """What a program manager must know about delivery: doubtful rows and channels that are down."""

    uncertain: int
    down: list  # [ChannelCircuit] of this organization's channels


def delivery_health(*, organization: Organization, run=None) -> DeliveryHealth:
    from notifications import breaker, channels

    rows = Notification.objects.for_organization(organization).filter(status=Notification.Status.UNCERTAIN)
    if run is not None:
        rows = rows.filter(run=run)
    keys = [channels.email_channel_key()]
    settings = notification_settings_for(organization=organization)
    if settings.webhook_url:
        keys.append(channels.webhook_channel_key(settings.webhook_url))
    way = channels.Way(organization, settings, channel_credentials_for(organization=organization), 0)
    keys += [key for key in (channels.adapter_for(c).circuit_key(way) for c in ("kakao", "slack")) if key]
    return DeliveryHealth(uncertain=rows.count(), down=breaker.open_circuits(keys))


def is_unsubscribed(*, organization: Organization, email: str, kind: str) -> bool:
    return Unsubscribe.objects.for_organization(organization).filter(email=email.strip().lower(), kind=kind).exists()


def runs_for_preview(*, organization: Organization) -> QuerySet:
    return Run.objects.for_organization(organization).select_related("program").order_by("-starts_on", "name")


# --- Survey response rates -------------------------------------------------------------------

#: Outbox states in which an invitation counts as sent (handed over, or possibly so).
INVITED_STATUSES = (Notification.Status.SENT, Notification.Status.SENDING, Notification.Status.UNCERTAIN)


def with_survey_response_rates(queryset, *, organization: Organization):
    """Annotate value-gap surveys with who was invited and who answered, participants and mentors apart.

    ``invited_participants`` counts enrollments (a team is one), ``invited_mentors``
    mentors, each once however many invitations and reminders they got;
    ``answered_participants`` / ``answered_mentors`` count responses. One query for a
    whole page of surveys (subqueries, no join that multiplies rows).
    """
    from django.db.models import CharField, Count, IntegerField, OuterRef, Subquery, Value
    from django.db.models.functions import Cast, Coalesce, Concat

    from notifications.models import Channel, Kind

    def invited(who: str):
        prefix = Concat(
            Value("survey:"), Cast(OuterRef("pk"), CharField()), Value(f":{who}:"), output_field=CharField()
        )
        rows = (
            Notification.objects.for_organization(organization)
            .filter(
                kind__in=[Kind.SURVEY_INVITATION, Kind.SURVEY_REMINDER],
                channel=Channel.EMAIL,
                status__in=INVITED_STATUSES,
                subject_key__startswith=prefix,
            )
            .order_by()
            .values("organization")
            .annotate(count=Count("subject_key", distinct=True))
            .values("count")
        )
        return Coalesce(Subquery(rows, output_field=IntegerField()), 0)

    def answered(kind: str):
        rows = (
            SurveyResponse.objects.for_organization(organization)
            .filter(survey=OuterRef("pk"), respondent_kind=kind)
            .order_by()
            .values("survey")
            .annotate(count=Count("id"))
            .values("count")
        )
        return Coalesce(Subquery(rows, output_field=IntegerField()), 0)

    return queryset.annotate(
        invited_participants=invited("enrollment"),
        invited_mentors=invited("mentor"),
        answered_participants=answered(SurveyResponse.RespondentKind.PARTICIPANT),
        answered_mentors=answered(SurveyResponse.RespondentKind.MENTOR),
    )


# --- Channels (issue #19) ----------------------------------------------------------------


def _load_channels(data: PlanningData) -> None:
    """Credentials, everyone's channel choices and the templates in use: three queries."""
    organization = data.organization
    data.credentials = channel_credentials_for(organization=organization)
    data.channel_profiles = {
        profile.email: profile for profile in ChannelProfile.objects.for_organization(organization)
    }
    data.alimtalk_templates = {
        (template.kind, template.language): template
        for template in AlimTalkTemplate.objects.for_organization(organization).filter(is_active=True)
    }


def channel_credentials_for(*, organization: Organization) -> ChannelCredentials | None:
    return ChannelCredentials.objects.for_organization(organization).first()


def channel_profile_of(*, organization: Organization, email: str) -> ChannelProfile | None:
    return ChannelProfile.objects.for_organization(organization).filter(email=(email or "").strip().lower()).first()


def alimtalk_templates(*, organization: Organization) -> QuerySet[AlimTalkTemplate]:
    return AlimTalkTemplate.objects.for_organization(organization).order_by("kind", "language")


def attempts_awaiting_report(*, organization: Organization, since: datetime.datetime) -> QuerySet[DeliveryAttempt]:
    """Attempts the provider accepted whose delivery report has not come yet (oldest first)."""
    return (
        DeliveryAttempt.objects.for_organization(organization)
        .filter(delivery_status="pending", started_at__gte=since)
        .exclude(provider_message_id="")
        .select_related("notification")
        .order_by("started_at", "id")
    )


def organization_ids_awaiting_reports(*, since: datetime.datetime) -> list[int]:
    """Organizations with reports to poll (a cross-tenant read for beat's fan-out only)."""
    return sorted(
        set(
            DeliveryAttempt.objects.dangerously_all_organizations()
            .filter(delivery_status="pending", started_at__gte=since)
            .exclude(provider_message_id="")
            .values_list("organization_id", flat=True)
        )
    )


def enrollment_for_link(*, organization: Organization, enrollment_id: int):
    """The active enrollment a participant's link is for, with its participant and run, or None."""
    return (
        Enrollment.objects.for_organization(organization)
        .select_related("participant", "run", "run__program")
        .filter(pk=enrollment_id, archived_at__isnull=True)
        .exclude(status=Enrollment.Status.DROPPED)
        .first()
    )

"""Reads of the programs app. Every function takes the organization explicitly."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from programs.extensions import home_parts
from programs.models import (
    CheckIn,
    Enrollment,
    HelpRequest,
    HelpRequestReply,
    MentorAssignment,
    Milestone,
    MilestoneProgress,
    Run,
)

# Enrollments that still take part: the ones a mentor's capacity and the dashboard count.
CURRENT_ENROLLMENT_STATUSES = (Enrollment.Status.APPLIED, Enrollment.Status.ACTIVE)


def today_for(organization) -> datetime.date:
    """Today's date in the organization's time zone (a deadline is a local date)."""
    return timezone.now().astimezone(organization.zone).date()


# --- mentors -----------------------------------------------------------------------------


def mentor_load(*, organization, mentor) -> int:
    """How many enrollments the mentor is assigned to at once in active runs.

    Dropped, completed and archived enrollments do not count; neither do runs that
    are still drafts or already finished.
    """
    return (
        MentorAssignment.objects.for_organization(organization)
        .filter(
            mentor=mentor,
            enrollment__isnull=False,
            run__status=Run.Status.ACTIVE,
            enrollment__status__in=CURRENT_ENROLLMENT_STATUSES,
            enrollment__archived_at__isnull=True,
        )
        .values("enrollment_id")
        .distinct()
        .count()
    )


def enrollments_for_mentor(*, organization, mentor) -> QuerySet[Enrollment]:
    """The mentor's mentees: enrollments the mentor is assigned to directly (not archived)."""
    assigned = MentorAssignment.objects.for_organization(organization).filter(enrollment=OuterRef("pk"), mentor=mentor)
    return (
        Enrollment.objects.for_organization(organization)
        .filter(Exists(assigned), archived_at__isnull=True)
        .select_related("run", "run__program", "participant", "team")
        .order_by("run__final_deadline", "run_id", "id")
    )


def _routed_to_mentor(organization, mentor) -> Q:
    """Help requests reach the enrollment's own mentors, or the run's mentors when it has none."""
    direct = MentorAssignment.objects.for_organization(organization).filter(
        enrollment=OuterRef("enrollment"), mentor=mentor
    )
    any_direct = MentorAssignment.objects.for_organization(organization).filter(enrollment=OuterRef("enrollment"))
    run_wide = MentorAssignment.objects.for_organization(organization).filter(
        run=OuterRef("enrollment__run"), enrollment__isnull=True, mentor=mentor
    )
    return Q(Exists(direct)) | (Q(Exists(run_wide)) & ~Q(Exists(any_direct)))


def help_requests_for_mentor(*, organization, mentor) -> QuerySet[HelpRequest]:
    """Every (not archived) help request routed to the mentor, newest first."""
    return (
        HelpRequest.objects.for_organization(organization)
        .filter(_routed_to_mentor(organization, mentor), archived_at__isnull=True)
        .select_related("enrollment", "enrollment__participant", "enrollment__team", "enrollment__run")
        .order_by("-created_at", "-id")
    )


def open_help_requests_for_mentor(*, organization, mentor) -> QuerySet[HelpRequest]:
    """Help requests routed to the mentor that nobody has answered yet, oldest first.

    Routed means: the mentor is assigned to the request's enrollment, or to its run as
    a whole when the enrollment has no mentor of its own.
    """
    return (
        help_requests_for_mentor(organization=organization, mentor=mentor)
        .filter(status=HelpRequest.Status.OPEN)
        .order_by("created_at", "id")
    )


def mentor_may_answer(*, organization, help_request, mentor) -> bool:
    """A mentor may answer requests of their own mentees and of runs they serve as a whole."""
    enrollment = help_request.enrollment
    return (
        MentorAssignment.objects.for_organization(organization)
        .filter(Q(enrollment=enrollment) | Q(run_id=enrollment.run_id, enrollment__isnull=True), mentor=mentor)
        .exists()
    )


def mentors_for_enrollment(*, organization, enrollment) -> list:
    """The mentors a help request of this enrollment is routed to."""
    assignments = MentorAssignment.objects.for_organization(organization).select_related("mentor", "mentor__user")
    direct = [a.mentor for a in assignments.filter(enrollment=enrollment)]
    if direct:
        return direct
    return [a.mentor for a in assignments.filter(run_id=enrollment.run_id, enrollment__isnull=True)]


# --- milestones and progress --------------------------------------------------------------


@dataclass(frozen=True)
class MilestoneProgressRow:
    """One milestone of a run as one enrollment stands with it."""

    milestone: Milestone
    progress: MilestoneProgress | None
    today: datetime.date

    @property
    def status(self) -> str:
        return self.progress.status if self.progress else MilestoneProgress.Status.NOT_STARTED

    @property
    def status_label(self) -> str:
        return MilestoneProgress.Status(self.status).label

    @property
    def is_done(self) -> bool:
        return self.status == MilestoneProgress.Status.DONE

    @property
    def days_left(self) -> int:
        return (self.milestone.due_on - self.today).days

    @property
    def is_overdue(self) -> bool:
        return not self.is_done and self.milestone.due_on < self.today

    @property
    def days_late(self) -> int:
        """Days past the due date (0 while it is not due yet)."""
        return max(0, -self.days_left)


def milestone_progress_for_enrollment(*, organization, enrollment) -> list[MilestoneProgressRow]:
    """Every milestone of the enrollment's run, in date order, with this enrollment's progress.

    Milestones the participant has not touched yet come with ``progress=None`` (status
    "not started"). Two queries, whatever the number of milestones.
    """
    progress = MilestoneProgress.objects.for_organization(organization).filter(enrollment=enrollment)
    milestones = (
        Milestone.objects.for_organization(organization)
        .filter(run_id=enrollment.run_id)
        .prefetch_related(Prefetch("progress", queryset=progress, to_attr="progress_of_enrollment"))
        .order_by("due_on", "id")
    )
    today = today_for(organization)
    return [
        MilestoneProgressRow(
            milestone=m, progress=m.progress_of_enrollment[0] if m.progress_of_enrollment else None, today=today
        )
        for m in milestones
    ]


def latest_check_ins(*, organization, enrollment, limit: int = 5) -> QuerySet[CheckIn]:
    """The enrollment's most recent check-ins (archived ones left out), newest first."""
    return (
        CheckIn.objects.for_organization(organization)
        .filter(enrollment=enrollment, archived_at__isnull=True)
        .order_by("-created_at", "-id")[:limit]
    )


def help_requests_with_replies(*, organization, enrollment, limit: int = 5) -> list[HelpRequest]:
    """The enrollment's latest help requests with their replies (oldest reply first), in two queries."""
    return list(
        HelpRequest.objects.for_organization(organization)
        .filter(enrollment=enrollment)
        .prefetch_related(
            Prefetch(
                "replies",
                queryset=HelpRequestReply.objects.for_organization(organization)
                .select_related("mentor__user")
                .order_by("created_at", "id"),
            )
        )
        .order_by("-created_at", "-id")[:limit]
    )


def milestones_for_run(*, organization, run) -> QuerySet[Milestone]:
    return Milestone.objects.for_organization(organization).filter(run=run).order_by("due_on", "id")


def enrollments_for_run(*, organization, run) -> QuerySet[Enrollment]:
    return (
        Enrollment.objects.for_organization(organization)
        .filter(run=run, archived_at__isnull=True)
        .select_related("participant", "team")
        .order_by("id")
    )


def run_by_calendar_token(*, organization, token: str) -> Run | None:
    if not token:
        return None
    return Run.objects.for_organization(organization).filter(calendar_token=token).select_related("program").first()


def help_request_counts_by_status(*, organization, run) -> dict[str, int]:
    rows = (
        HelpRequest.objects.for_organization(organization)
        .filter(enrollment__run=run, archived_at__isnull=True)
        .values("status")
        .annotate(n=Count("id"))
    )
    return {row["status"]: row["n"] for row in rows}


def milestone_completion_counts(*, organization, run) -> dict[int, tuple[int, int]]:
    """Per milestone of the run: (current enrollments that are done, current enrollments). Two queries."""
    current = (
        Enrollment.objects.for_organization(organization)
        .filter(run=run, archived_at__isnull=True, status__in=CURRENT_ENROLLMENT_STATUSES)
        .count()
    )
    done = dict(
        MilestoneProgress.objects.for_organization(organization)
        .filter(
            milestone__run=run,
            status=MilestoneProgress.Status.DONE,
            enrollment__archived_at__isnull=True,
            enrollment__status__in=CURRENT_ENROLLMENT_STATUSES,
        )
        .values_list("milestone_id")
        .annotate(n=Count("id"))
    )
    milestone_ids = Milestone.objects.for_organization(organization).filter(run=run).values_list("id", flat=True)
    return {pk: (done.get(pk, 0), current) for pk in milestone_ids}


# --- the run dashboard -------------------------------------------------------------------


@dataclass
class MilestoneCompletion:
    milestone: Milestone
    done: int
    total: int
    overdue: int
    today: datetime.date

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def days_left(self) -> int:
        return (self.milestone.due_on - self.today).days


@dataclass
class OverdueItem:
    enrollment: Enrollment
    milestone: Milestone
    status: str
    days_overdue: int

    @property
    def status_label(self) -> str:
        return MilestoneProgress.Status(self.status).label


@dataclass
class SilentEnrollment:
    enrollment: Enrollment
    silent_days: int | None  # None: never heard from


@dataclass
class RunDashboard:
    run: Run
    today: datetime.date
    enrollment_counts: dict[str, int]
    milestones: list[MilestoneCompletion]
    overdue: list[OverdueItem]
    help_requests: list[HelpRequest]
    silent: list[SilentEnrollment]

    @property
    def active_enrollments(self) -> int:
        return sum(self.enrollment_counts.get(s, 0) for s in CURRENT_ENROLLMENT_STATUSES)

    @property
    def overall_percent(self) -> int:
        done = sum(m.done for m in self.milestones)
        total = sum(m.total for m in self.milestones)
        return round(100 * done / total) if total else 0

    @property
    def days_to_deadline(self) -> int:
        return (self.run.final_deadline - self.today).days


def run_dashboard(*, organization, run) -> RunDashboard:
    """Milestone completion, overdue items, unresolved help requests and silent participants.

    A fixed number of queries, whatever the size of the cohort.
    """
    today = today_for(organization)
    now = timezone.now()
    all_enrollments = list(
        Enrollment.objects.for_organization(organization)
        .filter(run=run, archived_at__isnull=True)
        .select_related("participant", "team")
        .order_by("id")
    )
    counts: dict[str, int] = {}
    for enrollment in all_enrollments:
        counts[enrollment.status] = counts.get(enrollment.status, 0) + 1
    current = [e for e in all_enrollments if e.status in CURRENT_ENROLLMENT_STATUSES]
    milestones = list(milestones_for_run(organization=organization, run=run))
    status_of = {
        (p.enrollment_id, p.milestone_id): p.status
        for p in MilestoneProgress.objects.for_organization(organization)
        .filter(milestone__run=run)
        .only("enrollment_id", "milestone_id", "status")
    }
    completion, overdue = [], []
    for milestone in milestones:
        done = late = 0
        for enrollment in current:
            status = status_of.get((enrollment.id, milestone.id), MilestoneProgress.Status.NOT_STARTED)
            if status == MilestoneProgress.Status.DONE:
                done += 1
            elif milestone.due_on < today and milestone.completed_at is None:
                late += 1
                overdue.append(OverdueItem(enrollment, milestone, status, (today - milestone.due_on).days))
        completion.append(MilestoneCompletion(milestone, done, len(current), late, today))
    overdue.sort(key=lambda item: (-item.days_overdue, item.enrollment.id))
    help_requests = list(
        HelpRequest.objects.for_organization(organization)
        .filter(enrollment__run=run, archived_at__isnull=True)
        .exclude(status=HelpRequest.Status.RESOLVED)
        .select_related("enrollment", "enrollment__participant", "enrollment__team")
        .order_by("created_at", "id")
    )
    cadence = datetime.timedelta(days=run.checkin_cadence_days)
    silent = []
    for enrollment in current:
        if enrollment.last_contact_at is None:
            # Not heard from since the run started; give them one cadence first.
            if today - run.starts_on > cadence:
                silent.append(SilentEnrollment(enrollment, None))
        elif now - enrollment.last_contact_at > cadence:
            silent.append(SilentEnrollment(enrollment, (now - enrollment.last_contact_at).days))
    silent.sort(key=lambda s: (s.silent_days is not None, -(s.silent_days or 0)))
    return RunDashboard(run, today, counts, completion, overdue, help_requests, silent)


# --- the participant's home ----------------------------------------------------------------

_BULLET = re.compile(r"^\s*(?:[-*•·▪◦]|\d{1,3}[.)]|[①-⑳])\s*")


def commitment_items(text: str) -> list[str]:
    """A participant's free-text commitments as items: one per line, list markers dropped.

    "- 매주 인터뷰 5회\\n2) 금요일 체크인" gives ["매주 인터뷰 5회", "금요일 체크인"]; empty lines go.
    """
    items = []
    for line in (text or "").splitlines():
        item = _BULLET.sub("", line, count=1).strip()
        if item:
            items.append(item)
    return items


@dataclass
class ParticipantHome:
    """Everything a participant's home page shows, read in a fixed number of queries."""

    enrollment: Enrollment
    today: datetime.date
    rows: list[MilestoneProgressRow]
    check_ins: list[CheckIn]
    help_requests: list[HelpRequest]
    commitments: list[str]
    # The parts other apps add (programs/extensions.py): open self-assessments and surveys
    # (assessments), sessions to rate (mentors), upcoming office-hours bookings (officehours).
    self_assessments: list = field(default_factory=list)
    surveys: list = field(default_factory=list)
    ratings_pending: list = field(default_factory=list)
    office_hours: list = field(default_factory=list)

    @property
    def deadline_in_days(self) -> int:
        return (self.enrollment.run.final_deadline - self.today).days

    @property
    def milestones_done(self) -> int:
        return sum(1 for row in self.rows if row.is_done)

    @property
    def to_do(self) -> int:
        """Open things that wait for the participant: assessments, surveys and ratings not given yet."""
        return (
            sum(1 for a in self.self_assessments if not a.done)
            + sum(1 for s in self.surveys if not s.answered)
            + len(self.ratings_pending)
        )


def participant_help_requests(*, organization, enrollment) -> list[HelpRequest]:
    """Every (not archived) help request of the enrollment, newest first, each with all its replies.

    Two queries, whatever the number of requests and replies.
    """
    replies = (
        HelpRequestReply.objects.for_organization(organization)
        .select_related("mentor__user")
        .order_by("created_at", "id")
    )
    return list(
        HelpRequest.objects.for_organization(organization)
        .filter(enrollment=enrollment, archived_at__isnull=True)
        .prefetch_related(Prefetch("replies", queryset=replies))
        .order_by("-created_at", "-id")
    )


def participant_home(*, organization, enrollment, check_in_limit: int = 3) -> ParticipantHome:
    """The participant's home: milestones, check-ins, help requests with every reply, what is open for them.

    A fixed number of queries (about ten) whatever the number of milestones, requests,
    replies, windows, surveys or sessions.
    """
    now = timezone.now()
    return ParticipantHome(
        enrollment=enrollment,
        today=today_for(organization),
        rows=milestone_progress_for_enrollment(organization=organization, enrollment=enrollment),
        check_ins=list(latest_check_ins(organization=organization, enrollment=enrollment, limit=check_in_limit)),
        help_requests=participant_help_requests(organization=organization, enrollment=enrollment),
        commitments=commitment_items(enrollment.commitments),
        **home_parts(organization=organization, enrollment=enrollment, now=now),
    )

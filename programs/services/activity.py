"""The participant's activity: milestone progress, check-ins, help requests and their answers; overdue milestones."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.events import event_emit, events_subscribed
from core.services import validated_save
from core.tenancy import require_same_organization
from programs import selectors
from programs.models import (
    CheckIn,
    Enrollment,
    HelpRequest,
    HelpRequestReply,
    Milestone,
    MilestoneProgress,
    Run,
)
from programs.services._common import _plan_messages_soon

# --- progress, check-ins, help requests --------------------------------------------------


@transaction.atomic
def milestone_progress_update(
    *,
    organization,
    enrollment: Enrollment,
    milestone: Milestone,
    status: str,
    evidence_url: str = "",
    note: str = "",
) -> MilestoneProgress:
    """Record where an enrollment stands with a milestone (one row per pair)."""
    require_same_organization(organization, enrollment=enrollment, milestone=milestone)
    if milestone.run_id != enrollment.run_id:
        raise ValidationError({"milestone": _("This milestone belongs to another run.")})
    progress = (
        MilestoneProgress.objects.for_organization(organization)
        .select_for_update()
        .filter(enrollment=enrollment, milestone=milestone)
        .first()
    ) or MilestoneProgress(organization=organization, enrollment=enrollment, milestone=milestone)
    was_done = progress.status == MilestoneProgress.Status.DONE
    progress.status = status
    progress.evidence_url = evidence_url
    progress.note = note
    validated_save(progress)
    _touch_contact(enrollment)
    if progress.status == MilestoneProgress.Status.DONE and not was_done:
        event_emit(
            organization=organization,
            event="milestone.completed",
            payload={
                "milestone_id": milestone.id,
                "run_id": milestone.run_id,
                "enrollment_id": enrollment.id,
                "scope": "enrollment",
            },
        )
    return progress


@transaction.atomic
def milestone_complete(*, organization, milestone: Milestone) -> Milestone:
    """Mark a milestone of the run completed: re-planning leaves it where it is."""
    require_same_organization(organization, milestone=milestone)
    if milestone.completed_at is None:
        milestone.completed_at = timezone.now()
        validated_save(milestone, update_fields=["completed_at"])
        event_emit(
            organization=organization,
            event="milestone.completed",
            payload={"milestone_id": milestone.id, "run_id": milestone.run_id, "enrollment_id": None, "scope": "run"},
        )
    return milestone


def milestones_overdue_announce(*, organization, today: datetime.date | None = None) -> int:
    """Emit ``milestone.overdue`` once for each milestone that passed its due date unfinished.

    Unfinished means: the PM has not marked it completed and at least one current
    enrollment has not reported it done. Each milestone is claimed with a conditional
    UPDATE, so concurrent runs (a second beat, a retried task) announce it only once.
    Returns how many milestones were announced.
    """
    today = today or selectors.today_for(organization)
    candidates = list(
        Milestone.objects.for_organization(organization)
        .filter(due_on__lt=today, completed_at__isnull=True, overdue_announced_at__isnull=True)
        .exclude(run__status=Run.Status.DRAFT)
        .order_by("due_on", "id")
    )
    if not candidates:
        return 0
    # Two reads for all candidates, not two per milestone: who is enrolled, who is done.
    enrolled_by_run = defaultdict(list)
    for run_id, enrollment_id in (
        Enrollment.objects.for_organization(organization)
        .filter(run_id__in={m.run_id for m in candidates}, archived_at__isnull=True)
        .filter(status__in=[Enrollment.Status.APPLIED, Enrollment.Status.ACTIVE])
        .order_by("id")
        .values_list("run_id", "id")
    ):
        enrolled_by_run[run_id].append(enrollment_id)
    done = set(
        MilestoneProgress.objects.for_organization(organization)
        .filter(milestone__in=candidates, status=MilestoneProgress.Status.DONE)
        .values_list("milestone_id", "enrollment_id")
    )
    # Ask once whether anyone listens; the claim is recorded either way.
    subscribed = "milestone.overdue" in events_subscribed(organization=organization, events=["milestone.overdue"])
    announced = 0
    for milestone in candidates:
        behind = [e for e in enrolled_by_run[milestone.run_id] if (milestone.id, e) not in done]
        if not behind:
            continue
        with transaction.atomic():
            claimed = (
                Milestone.objects.for_organization(organization)
                .filter(pk=milestone.pk, overdue_announced_at__isnull=True)
                .update(overdue_announced_at=timezone.now())
            )
            if not claimed:
                continue
            announced += 1
            if not subscribed:
                continue
            event_emit(
                organization=organization,
                event="milestone.overdue",
                payload={
                    "milestone_id": milestone.id,
                    "run_id": milestone.run_id,
                    "name": milestone.name,
                    "due_on": milestone.due_on.isoformat(),
                    "enrollment_ids": behind,
                },
            )
    return announced


def _touch_contact(enrollment: Enrollment) -> None:
    enrollment.last_contact_at = timezone.now()
    enrollment.save(update_fields=["last_contact_at", "updated_at"])


@transaction.atomic
def check_in_create(
    *, organization, enrollment: Enrollment, done: str, next: str = "", blockers: str = "", confidence=None
) -> CheckIn:
    require_same_organization(organization, enrollment=enrollment)
    check_in = validated_save(
        CheckIn(
            organization=organization,
            enrollment=enrollment,
            done=done,
            next=next,
            blockers=blockers,
            confidence=confidence,
        )
    )
    _touch_contact(enrollment)
    event_emit(
        organization=organization,
        event="check_in.created",
        payload={
            "check_in_id": check_in.id,
            "enrollment_id": enrollment.id,
            "run_id": enrollment.run_id,
            "confidence": confidence,
            "has_blockers": bool(blockers.strip()),
        },
    )
    return check_in


@transaction.atomic
def help_request_create(
    *, organization, enrollment: Enrollment, act: str, impact: str, desired_outcome: str
) -> HelpRequest:
    """Ask the enrollment's mentors for help, in AID form."""
    require_same_organization(organization, enrollment=enrollment)
    help_request = validated_save(
        HelpRequest(
            organization=organization,
            enrollment=enrollment,
            act=act,
            impact=impact,
            desired_outcome=desired_outcome,
        )
    )
    _touch_contact(enrollment)
    mentors = selectors.mentors_for_enrollment(organization=organization, enrollment=enrollment)
    event_emit(
        organization=organization,
        event="help_request.created",
        payload={
            "help_request_id": help_request.id,
            "enrollment_id": enrollment.id,
            "run_id": enrollment.run_id,
            "mentor_ids": [m.id for m in mentors],
        },
    )
    _plan_messages_soon(organization)  # its mentors hear of it at once
    return help_request


@transaction.atomic
def help_request_reply(*, organization, help_request: HelpRequest, mentor, author, body: str) -> HelpRequestReply:
    """Answer a help request (as one of its mentors, or as staff with ``mentor=None``).

    The first reply records ``first_response_at`` (the time to first response is
    measured from the request's creation) and moves an open request to "answered".
    The enrollment's last contact becomes now.
    """
    require_same_organization(organization, help_request=help_request, mentor=mentor)
    if mentor is not None and not selectors.mentor_may_answer(
        organization=organization, help_request=help_request, mentor=mentor
    ):
        raise ValidationError({"mentor": _("This help request is not routed to %(mentor)s.") % {"mentor": mentor}})
    reply = validated_save(
        HelpRequestReply(
            organization=organization, help_request=help_request, mentor=mentor, author=author, body=body.strip()
        )
    )
    locked = HelpRequest.objects.for_organization(organization).select_for_update().get(pk=help_request.pk)
    changed = []
    if locked.first_response_at is None:
        locked.first_response_at = reply.created_at
        changed.append("first_response_at")
    if locked.status == HelpRequest.Status.OPEN:
        locked.status = HelpRequest.Status.ANSWERED
        changed.append("status")
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
        for name in changed:
            setattr(help_request, name, getattr(locked, name))
    _touch_contact(help_request.enrollment)
    event_emit(
        organization=organization,
        event="help_request.answered",
        payload={
            "help_request_id": help_request.id,
            "reply_id": reply.id,
            "enrollment_id": help_request.enrollment_id,
            "mentor_id": mentor.id if mentor else None,
            "first_response_at": locked.first_response_at.isoformat(),
        },
    )
    _plan_messages_soon(organization)  # the participant reads the answer in their mail
    return reply


@transaction.atomic
def help_request_resolve(*, organization, help_request: HelpRequest) -> HelpRequest:
    require_same_organization(organization, help_request=help_request)
    if help_request.status != HelpRequest.Status.RESOLVED:
        help_request.status = HelpRequest.Status.RESOLVED
        help_request.resolved_at = timezone.now()
        validated_save(help_request, update_fields=["status", "resolved_at"])
    return help_request

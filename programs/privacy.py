"""What programs holds about a person, for data-subject requests (registry: core/privacy.py).

Kept on erasure: enrollments (run, status, dates), check-ins, help requests and progress
rows with their counts, statuses, confidence and timestamps. Erased: the participant's
name, email, phone, company, stage and tags, and the free text they wrote (definition of
success, commitments, what they want from a mentor, check-ins, help requests, progress notes and evidence links).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core import privacy
from programs.models import (
    CheckIn,
    Enrollment,
    HelpRequest,
    MilestoneProgress,
    Participant,
    TeamMembership,
)

privacy.identity_column("programs.Participant", "name")


def _participant(subject):
    if not subject.is_participant:
        return None
    return Participant.objects.for_organization(subject.organization).filter(pk=subject.pk).first()


def _enrollments(subject):
    return Enrollment.objects.for_organization(subject.organization).filter(participant_id=subject.pk)


@privacy.identifiers
def participant_identity(subject):
    participant = _participant(subject)
    if participant is None:
        return None
    return privacy.Identity(names={participant.name}, emails={participant.email}, phones={participant.phone})


@privacy.exporter("participant", _("Participant record"))
def export_participant(subject):
    participant = _participant(subject)
    if participant is None:
        return []
    teams = TeamMembership.objects.for_organization(subject.organization).filter(participant=participant)
    return [
        {
            "id": participant.pk,
            "name": participant.name,
            "email": participant.email,
            "phone": participant.phone,
            "company": participant.company,
            "stage": participant.stage,
            "tags": participant.tags,
            "language": participant.language,
            "teams": [m.team.name for m in teams.select_related("team")],
            "created_at": participant.created_at,
        }
    ]


@privacy.exporter("enrollments", _("Enrollments"))
def export_enrollments(subject):
    if not subject.is_participant:
        return []
    return [
        {
            "id": e.pk,
            "run": e.run.name,
            "program": e.run.program.name,
            "status": e.status,
            "success_definition": e.success_definition,
            "commitments": e.commitments,
            "needs": e.needs,
            "industry": e.industry,
            "stage": e.stage,
            "mentor_wish": e.mentor_wish,
            "last_contact_at": e.last_contact_at,
            "created_at": e.created_at,
        }
        for e in _enrollments(subject).select_related("run__program").order_by("id")
    ]


@privacy.exporter("check_ins", _("Check-ins"))
def export_check_ins(subject):
    if not subject.is_participant:
        return []
    rows = CheckIn.objects.for_organization(subject.organization).filter(enrollment__participant_id=subject.pk)
    return [
        {
            "id": c.pk,
            "enrollment": c.enrollment_id,
            "done": c.done,
            "next": c.next,
            "blockers": c.blockers,
            "confidence": c.confidence,
            "created_at": c.created_at,
        }
        for c in rows.order_by("created_at", "id")
    ]


@privacy.exporter("help_requests", _("Help requests and replies"))
def export_help_requests(subject):
    if not subject.is_participant:
        return []
    rows = (
        HelpRequest.objects.for_organization(subject.organization)
        .filter(enrollment__participant_id=subject.pk)
        .prefetch_related("replies")
        .order_by("created_at", "id")
    )
    return [
        {
            "id": h.pk,
            "act": h.act,
            "impact": h.impact,
            "desired_outcome": h.desired_outcome,
            "status": h.status,
            "created_at": h.created_at,
            "replies": [{"body": r.body, "created_at": r.created_at} for r in h.replies.all()],
        }
        for h in rows
    ]


@privacy.exporter("milestone_progress", _("Milestone progress"))
def export_progress(subject):
    if not subject.is_participant:
        return []
    rows = (
        MilestoneProgress.objects.for_organization(subject.organization)
        .filter(enrollment__participant_id=subject.pk)
        .select_related("milestone")
        .order_by("milestone__due_on", "id")
    )
    return [
        {
            "milestone": p.milestone.name,
            "due_on": p.milestone.due_on,
            "status": p.status,
            "evidence_url": p.evidence_url,
            "note": p.note,
        }
        for p in rows
    ]


@privacy.eraser("programs")
def erase(subject, placeholder: str) -> int:
    if not subject.is_participant:
        return 0
    organization = subject.organization
    changed = (
        Participant.objects.for_organization(organization)
        .filter(pk=subject.pk)
        .update(name=placeholder, email="", phone="", company="", stage="", tags=[])
    )
    enrollments = _enrollments(subject)
    changed += enrollments.update(success_definition="", commitments="", mentor_wish="")
    mine = {"enrollment__participant_id": subject.pk}
    changed += (
        CheckIn.objects.for_organization(organization).filter(**mine).update(done=placeholder, next="", blockers="")
    )
    changed += (
        HelpRequest.objects.for_organization(organization)
        .filter(**mine)
        .update(act=placeholder, impact=placeholder, desired_outcome=placeholder)
    )
    changed += MilestoneProgress.objects.for_organization(organization).filter(**mine).update(note="", evidence_url="")
    # Mentors' replies stay (response times are counted from them); names in them go with the sweep.
    return changed

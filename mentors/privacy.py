"""What mentors holds about a person, for data-subject requests (registry: core/privacy.py).

For a participant: the sessions they attended and the ratings they gave (the score stays,
their comment goes). For a mentor (a user subject): the mentor profile, development goals,
sessions and invitations. Kept on erasure: sessions (date, duration, attendance), ratings'
scores, goals' progress numbers. Erased: a mentor's bio, motivation, availability and
affiliations, goal texts and notes, session topics, notes and next steps they wrote, and
invitation names and addresses.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core import privacy
from mentors.models import (
    DevelopmentGoal,
    GoalCheckIn,
    KeyResult,
    Mentor,
    MentoringApproach,
    MentoringSession,
    MentorInvitation,
    SessionRating,
)

privacy.identity_column("mentors.MentorInvitation", "name")


def _mentors(subject):
    if not subject.is_user:
        return Mentor.objects.for_organization(subject.organization).none()
    return Mentor.objects.for_organization(subject.organization).filter(user_id=subject.pk)


def _sessions(subject):
    rows = MentoringSession.objects.for_organization(subject.organization)
    if subject.is_participant:
        return rows.filter(attendance__enrollment__participant_id=subject.pk).distinct()
    return rows.filter(mentor__user_id=subject.pk)


@privacy.identifiers
def invitation_identity(subject):
    if not subject.is_user:
        return None
    identity = privacy.Identity()
    mentors = list(_mentors(subject).values_list("pk", flat=True))
    for invitation in MentorInvitation.objects.for_organization(subject.organization).filter(mentor_id__in=mentors):
        identity.names.add(invitation.name)
        identity.emails.add(invitation.email)
    return identity


@privacy.exporter("mentor_profile", _("Mentor profile and goals"))
def export_mentor(subject):
    return [
        {
            "bio": m.bio,
            "motivation": m.motivation,
            "expertise": m.expertise,
            "availability": m.availability,
            "other_affiliations": m.other_affiliations,
            "status": m.status,
            "goals": [
                {"title": g.title, "why_it_matters": g.why_it_matters, "status": g.status, "target_date": g.target_date}
                for g in m.development_goals.all()
            ],
        }
        for m in _mentors(subject).prefetch_related("development_goals")
    ]


@privacy.exporter("mentoring_sessions", _("Mentoring sessions and ratings"))
def export_sessions(subject):
    rows = []
    for session in _sessions(subject).order_by("held_on", "id"):
        rows.append(
            {
                "held_on": session.held_on,
                "duration_minutes": session.duration_minutes,
                "topics": session.topics,
                "notes": session.notes,
                "next_steps": session.next_steps,
            }
        )
    if subject.is_participant:
        ratings = SessionRating.objects.for_organization(subject.organization).filter(participant_id=subject.pk)
        rows += [
            {"rated_session_on": r.session.held_on, "score": r.score, "comment": r.comment}
            for r in ratings.select_related("session").order_by("id")
        ]
    return rows


@privacy.eraser("mentors")
def erase(subject, placeholder: str) -> int:
    organization = subject.organization
    if subject.is_participant:
        return (
            SessionRating.objects.for_organization(organization)
            .filter(participant_id=subject.pk)
            .exclude(comment="")
            .update(comment="")
        )
    mentors = list(_mentors(subject).values_list("pk", flat=True))
    changed = (
        Mentor.objects.for_organization(organization)
        .filter(pk__in=mentors)
        .update(bio="", motivation="", availability="", other_affiliations="", expertise=[], status="alumni")
    )
    goals = DevelopmentGoal.objects.for_organization(organization).filter(mentor_id__in=mentors)
    changed += goals.update(title=placeholder, why_it_matters="")
    changed += (
        KeyResult.objects.for_organization(organization).filter(goal__mentor_id__in=mentors).update(title=placeholder)
    )
    changed += GoalCheckIn.objects.for_organization(organization).filter(goal__mentor_id__in=mentors).update(note="")
    changed += (
        MentoringApproach.objects.for_organization(organization)
        .filter(mentor_id__in=mentors)
        .update(format="", cadence="", focus="")
    )
    changed += (
        MentoringSession.objects.for_organization(organization)
        .filter(mentor_id__in=mentors)
        .update(topics="", notes="", next_steps="")
    )
    changed += (
        MentorInvitation.objects.for_organization(organization)
        .filter(mentor_id__in=mentors)
        .update(name="", email=f"erased-{subject.pk}@invalid.example", message="")
    )
    return changed

"""The mentors' part of the participant's home (programs/extensions.py): sessions attended and not rated yet."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef
from django.urls import reverse

from mentors.links import session_rating_token
from mentors.models import MentoringSession, SessionAttendance, SessionRating


@dataclass(frozen=True)
class PendingRating:
    session: MentoringSession
    link: str


def participant_pending_ratings(*, organization, enrollment, now=None) -> list[PendingRating]:
    """Sessions this participant attended (not archived) and has not rated yet, newest first.

    Only for an enrollment of one participant: a rating is a person's, and a team's
    home link is shared by its members (they rate from the link each one is mailed).
    """
    if not enrollment.participant_id:
        return []
    attended = SessionAttendance.objects.for_organization(organization).filter(
        session=OuterRef("pk"), enrollment=enrollment
    )
    rated = SessionRating.objects.for_organization(organization).filter(
        session=OuterRef("pk"), participant_id=enrollment.participant_id
    )
    sessions = (
        MentoringSession.objects.for_organization(organization)
        .filter(Exists(attended), ~Exists(rated), archived_at__isnull=True)
        .select_related("mentor__user")
        .order_by("-held_on", "-id")
    )
    participant = enrollment.participant
    return [
        PendingRating(
            session=session,
            link=reverse(
                "mentors:session_rate", kwargs={"token": session_rating_token(session=session, participant=participant)}
            ),
        )
        for session in sessions
    ]

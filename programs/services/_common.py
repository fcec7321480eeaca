"""What the programs services share: the enrollment's event payload, ringing the planner."""

from __future__ import annotations

from core.signals import messages_due
from programs.models import (
    Enrollment,
    Run,
)

# --- helpers -----------------------------------------------------------------------------


def _enrollment_payload(enrollment: Enrollment) -> dict:
    return {
        "enrollment_id": enrollment.id,
        "run_id": enrollment.run_id,
        "participant_id": enrollment.participant_id,
        "team_id": enrollment.team_id,
        "status": enrollment.status,
    }


def _plan_messages_soon(organization) -> None:
    """Ring the reminder planner after the commit: it writes the messages of the moment exactly once."""
    messages_due.send(sender=Run, organization=organization)

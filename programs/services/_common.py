"""What the programs services share: saving a validated row, the enrollment's event payload, ringing the planner."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.signals import messages_due
from programs.models import (
    Enrollment,
    Run,
)

# --- helpers -----------------------------------------------------------------------------


def _save(obj, *, update_fields: list[str] | None = None):
    obj.full_clean()
    if update_fields is not None:
        obj.save(update_fields=[*update_fields, "updated_at"])
    else:
        obj.save()
    return obj


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


def _change(obj, changes: dict, *, editable: tuple[str, ...]):
    """Set ``changes`` on ``obj`` and save it validated; a field outside ``editable`` is a field error."""
    refused = sorted(set(changes) - set(editable))
    if refused:
        raise ValidationError({name: _("This field cannot be changed here.") for name in refused})
    for name, value in changes.items():
        setattr(obj, name, value)
    return _save(obj)

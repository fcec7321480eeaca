"""The readable (HTML) form of an access export: parts, rows, labelled values."""

from __future__ import annotations

import json

from django.utils.translation import gettext_lazy as _

# Labels of the keys the hook modules use; an unknown key is shown as it is.
FIELD_LABELS = {
    "id": _("id"),
    "name": _("name"),
    "email": _("email"),
    "phone": _("phone"),
    "company": _("company"),
    "stage": _("stage"),
    "tags": _("tags"),
    "language": _("language"),
    "teams": _("teams"),
    "created_at": _("created at"),
    "run": _("run"),
    "program": _("program"),
    "status": _("status"),
    "success_definition": _("definition of success"),
    "commitments": _("commitments"),
    "last_contact_at": _("last contact"),
    "enrollment": _("enrollment"),
    "done": _("what I did"),
    "next": _("what I will do next"),
    "blockers": _("blockers"),
    "confidence": _("confidence (1-5)"),
    "act": _("act"),
    "impact": _("impact"),
    "desired_outcome": _("desired outcome"),
    "replies": _("replies"),
    "milestone": _("milestone"),
    "due_on": _("due on"),
    "evidence_url": _("evidence link"),
    "note": _("note"),
    "window": _("window"),
    "assessor_role": _("assessor role"),
    "about_this_person": _("about this person"),
    "level": _("level"),
    "notes": _("notes"),
    "links": _("links"),
    "submitted_at": _("submitted at"),
    "survey": _("survey"),
    "own_values": _("what do you value?"),
    "improve": _("what should we improve?"),
    "stop": _("what should we stop?"),
    "ratings": _("ratings"),
    "held_on": _("date"),
    "duration_minutes": _("duration (minutes)"),
    "topics": _("topics"),
    "next_steps": _("next steps"),
    "rated_session_on": _("rated session of"),
    "score": _("score (1-5)"),
    "comment": _("comment"),
    "kind": _("kind"),
    "channel": _("channel"),
    "recipient": _("recipient"),
    "subject": _("subject"),
    "text": _("text"),
    "scheduled_for": _("scheduled for"),
    "sent_at": _("sent at"),
    "at": _("when"),
    "action": _("action"),
    "record": _("record"),
    "changes": _("changes"),
    "date_joined": _("date joined"),
    "last_login": _("last login"),
    "roles": _("roles"),
    "bio": _("bio"),
    "motivation": _("motivation"),
    "expertise": _("expertise areas"),
    "availability": _("availability"),
    "other_affiliations": _("other affiliations"),
    "goals": _("development goals"),
}


def _text(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, indent=1)
    return str(value)


def export_for_display(export: dict) -> list[dict]:
    """[{title, key, rows: [[(label, text), ...], ...]}] for the template."""
    return [
        {
            "key": part["key"],
            "title": part["title"],
            "rows": [[(FIELD_LABELS.get(k, k), _text(v)) for k, v in row.items()] for row in part["rows"]],
        }
        for part in export["parts"]
    ]

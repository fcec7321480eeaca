"""What matching holds about a person, for data-subject requests (registry: core/privacy.py).

Ranked choices (a participant's of mentors, a mentor's of participants), conflicts a program
manager marked and proposed pairs hold ids, ranks, scores and reasons computed from profile
codes: they are exported and kept on erasure (the person's identity is in the rows they point
to, which their own apps erase). A conflict's note names people only in free text, which the
sweep clears. The participant's needs and wish live on the enrollment (programs/privacy.py).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core import privacy
from matching.models import Preference, ProposedPair


def _of(subject, queryset):
    if subject.is_participant:
        return queryset.filter(enrollment__participant_id=subject.pk)
    return queryset.filter(mentor__user_id=subject.pk)


@privacy.exporter("matching_choices", _("Ranked mentor matching choices"))
def export_choices(subject):
    preferences = _of(subject, Preference.objects.for_organization(subject.organization)).select_related(
        "run", "mentor__user", "enrollment__participant"
    )
    return [
        {
            "run": p.run.name,
            "stated_by": p.side,
            "rank": p.rank,
            "mentor": str(p.mentor),
            "participant": str(p.enrollment.participant) if p.enrollment.participant_id else "",
        }
        for p in preferences.order_by("run_id", "side", "rank")
    ]


@privacy.exporter("matching_pairs", _("Proposed mentor matches"))
def export_pairs(subject):
    pairs = _of(subject, ProposedPair.objects.for_organization(subject.organization)).select_related(
        "mentor__user", "enrollment__participant"
    )
    return [
        {
            "mentor": str(pair.mentor) if pair.mentor_id else "",
            "participant": str(pair.enrollment.participant) if pair.enrollment.participant_id else "",
            "score": pair.score,
            "reasons": pair.reasons,
            "accepted_at": pair.accepted_at,
        }
        for pair in pairs.order_by("id")
    ]

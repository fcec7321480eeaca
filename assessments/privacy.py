"""What assessments holds about a person, for data-subject requests (registry: core/privacy.py).

Kept on erasure: every assessment's level, role, window and version history numbers, and
every survey response with its statement ratings (reports add up the same). Erased: the
evidence notes, links and observation notes the person wrote about themselves (self and
peer assessments), the same in their version snapshots, and their own words in survey
answers (what they value, what to improve, what to stop). Notes that mentors and program
managers wrote about the person stay, with the person's name taken out by the sweep.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from assessments.models import Assessment, AssessmentVersion, Observation, SurveyResponse
from core import privacy


def _participant_filter(subject, prefix: str) -> Q:
    return Q(**{f"{prefix}__participant_id": subject.pk})


def _written_by(subject):
    """Assessments the person wrote: as the participant (self or peer), or as the mentor/user."""
    rows = Assessment.objects.for_organization(subject.organization)
    if subject.is_participant:
        return rows.filter(
            _participant_filter(subject, "assessor_enrollment")
            | (Q(assessor_role=Assessment.Role.SELF) & _participant_filter(subject, "subject_enrollment"))
        )
    return rows.filter(Q(assessor_user_id=subject.pk) | Q(assessor_mentor__user_id=subject.pk))


def _about(subject):
    rows = Assessment.objects.for_organization(subject.organization)
    if subject.is_participant:
        return rows.filter(_participant_filter(subject, "subject_enrollment"))
    return rows.filter(subject_mentor__user_id=subject.pk)


def _responses(subject):
    rows = SurveyResponse.objects.for_organization(subject.organization)
    if subject.is_participant:
        return rows.filter(_participant_filter(subject, "enrollment"))
    return rows.filter(mentor__user_id=subject.pk)


@privacy.exporter("assessments", _("Assessments"))
def export_assessments(subject):
    rows = (_about(subject) | _written_by(subject)).distinct().select_related("window", "level").order_by("id")
    return [
        {
            "id": a.pk,
            "window": str(a.window),
            "assessor_role": a.assessor_role,
            "about_this_person": a.id in set(_about(subject).values_list("id", flat=True)),
            "level": a.level.number,
            "notes": a.notes,
            "links": a.links,
            "submitted_at": a.submitted_at,
        }
        for a in rows
    ]


@privacy.exporter("survey_responses", _("Survey answers"))
def export_responses(subject):
    rows = _responses(subject).select_related("survey").prefetch_related("ratings__statement").order_by("id")
    return [
        {
            "survey": r.survey.title,
            "own_values": r.own_values,
            "improve": r.improve,
            "stop": r.stop,
            "ratings": [
                {"statement": x.statement.text, "importance": x.importance, "satisfaction": x.satisfaction}
                for x in r.ratings.all()
            ],
            "submitted_at": r.submitted_at,
        }
        for r in rows
    ]


@privacy.eraser("assessments")
def erase(subject, placeholder: str) -> int:
    organization = subject.organization
    written = list(_written_by(subject).values_list("id", flat=True))
    changed = Assessment.objects.for_organization(organization).filter(id__in=written).update(notes="", links=[])
    changed += (
        Observation.objects.for_organization(organization)
        .filter(assessment_id__in=written)
        .exclude(note="")
        .update(note="")
    )
    for version in AssessmentVersion.objects.for_organization(organization).filter(assessment_id__in=written):
        snapshot = dict(version.snapshot or {})
        snapshot["notes"] = ""
        snapshot["links"] = []
        snapshot["observations"] = [{**o, "note": ""} for o in snapshot.get("observations") or []]
        changed += (
            AssessmentVersion.objects.for_organization(organization).filter(pk=version.pk).update(snapshot=snapshot)
        )
    changed += _responses(subject).update(own_values="", improve="", stop="")
    return changed

"""Writes of the assessments app: frameworks, windows, assessments and value-gap survey answers.

Every function takes the organization explicitly, validates everything before it
writes, and raises :class:`django.core.exceptions.ValidationError` with field
errors, so that nothing is half-saved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import formats, timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from assessments.default_framework import DEFAULT_FRAMEWORK, DEFAULT_LEVELS
from assessments.models import (
    RATING_MAX,
    RATING_MIN,
    Assessment,
    AssessmentVersion,
    AssessmentWindow,
    EvidenceReference,
    Framework,
    Indicator,
    Level,
    Observation,
    StatementRating,
    SurveyResponse,
    ValueStatement,
    ValueSurvey,
)
from core import events
from core.audit import audit_record_bulk
from core.models import Membership, Organization
from core.services import validated_change, validated_create
from core.signals import messages_due
from core.tenancy import require_same_organization
from programs.models import MentorAssignment

MAX_EVIDENCE_LINKS = 10


# --- Frameworks ----------------------------------------------------------------------


@transaction.atomic
def framework_create_default(*, organization: Organization) -> Framework:
    """Give an organization the default customer-obsession framework (LV.0 to LV.5).

    Idempotent: an organization that already has it (perhaps edited) keeps what it has.
    """
    existing = Framework.objects.for_organization(organization).filter(key=DEFAULT_FRAMEWORK["key"]).first()
    if existing is not None:
        return existing
    framework = Framework(organization=organization, is_default=True, **DEFAULT_FRAMEWORK)
    framework.full_clean()
    framework.save()
    for number, name_ko, name_en, description_ko, description_en, indicators in DEFAULT_LEVELS:
        level = Level(
            organization=organization,
            framework=framework,
            number=number,
            name_ko=name_ko,
            name_en=name_en,
            description_ko=description_ko,
            description_en=description_en,
        )
        level.full_clean()
        level.save()
        new_indicators = Indicator.objects.bulk_create(
            [
                Indicator(organization=organization, level=level, position=position, text_ko=text_ko, text_en=text_en)
                for position, (text_ko, text_en) in enumerate(indicators, start=1)
            ]
        )
        audit_record_bulk(instances=new_indicators, created=True)
    return framework


# The rows a program manager configures (API and admin alike): the fields each may set.
FRAMEWORK_FIELDS = ("key", "name_ko", "name_en", "description_ko", "description_en", "consensus_method")
LEVEL_FIELDS = ("framework", "number", "name_ko", "name_en", "description_ko", "description_en")
INDICATOR_FIELDS = ("level", "position", "text_ko", "text_en")


def framework_create(*, organization: Organization, **fields) -> Framework:
    return validated_create(Framework, organization=organization, editable=FRAMEWORK_FIELDS, **fields)


def framework_update(*, organization: Organization, framework: Framework, **changes) -> Framework:
    return validated_change(framework, changes, editable=FRAMEWORK_FIELDS, organization=organization)


def level_create(*, organization: Organization, **fields) -> Level:
    return validated_create(Level, organization=organization, editable=LEVEL_FIELDS, **fields)


def level_update(*, organization: Organization, level: Level, **changes) -> Level:
    return validated_change(level, changes, editable=LEVEL_FIELDS, organization=organization)


def indicator_create(*, organization: Organization, **fields) -> Indicator:
    return validated_create(Indicator, organization=organization, editable=INDICATOR_FIELDS, **fields)


def indicator_update(*, organization: Organization, indicator: Indicator, **changes) -> Indicator:
    return validated_change(indicator, changes, editable=INDICATOR_FIELDS, organization=organization)


# --- Windows -------------------------------------------------------------------------


@transaction.atomic
def assessment_window_create(
    *,
    organization: Organization,
    run,
    framework: Framework,
    kind: str,
    opens_at: datetime,
    closes_at: datetime,
    name: str = "",
) -> AssessmentWindow:
    fields = {"run": run, "framework": framework, "kind": kind, "name": name, "opens_at": opens_at}
    return validated_create(
        AssessmentWindow, organization=organization, editable=WINDOW_FIELDS, closes_at=closes_at, **fields
    )


WINDOW_FIELDS = ("run", "framework", "kind", "name", "opens_at", "closes_at")


def assessment_window_update(*, organization: Organization, window: AssessmentWindow, **changes) -> AssessmentWindow:
    return validated_change(window, changes, editable=WINDOW_FIELDS, organization=organization)


# --- Assessments ---------------------------------------------------------------------


@dataclass(frozen=True)
class ObservationInput:
    """A behavioural indicator the assessor saw, with an optional note."""

    indicator: Indicator
    note: str = ""


def _format_moment(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _check_window_open(window: AssessmentWindow, now: datetime, errors: dict) -> None:
    if now < window.opens_at:
        errors.setdefault("window", []).append(
            _("This window opens at %(when)s; assessments are not accepted yet.")
            % {"when": _format_moment(window.opens_at)}
        )
    elif window.has_closed(now):
        errors.setdefault("window", []).append(
            _("This window closed at %(when)s; assessments in it can no longer be added or changed.")
            % {"when": _format_moment(window.closes_at)}
        )


def _clean_links(links: Iterable[str], errors: dict) -> list[str]:
    cleaned = [link.strip() for link in links if link and link.strip()]
    if len(cleaned) > MAX_EVIDENCE_LINKS:
        errors.setdefault("links", []).append(_("Give at most %(n)d links.") % {"n": MAX_EVIDENCE_LINKS})
    validate = URLValidator(schemes=["http", "https"])
    for link in cleaned:
        try:
            validate(link)
        except ValidationError:
            errors.setdefault("links", []).append(_("“%(link)s” is not a web address.") % {"link": link})
    return cleaned


def _check_evidence(
    *,
    organization: Organization,
    window: AssessmentWindow,
    subject_enrollment,
    observations: Sequence[ObservationInput],
    check_ins: Sequence,
    help_requests: Sequence,
    errors: dict,
) -> None:
    seen = set()
    for observation in observations:
        indicator = observation.indicator
        if indicator.organization_id != organization.id or indicator.level.framework_id != window.framework_id:
            errors.setdefault("observations", []).append(
                _("“%(indicator)s” is not a behaviour of this window's framework.") % {"indicator": indicator}
            )
        if indicator.pk in seen:
            errors.setdefault("observations", []).append(_("Each behaviour can be observed once."))
        seen.add(indicator.pk)
    for field, items in (("check_ins", check_ins), ("help_requests", help_requests)):
        for item in items:
            if (
                item.organization_id != organization.id
                or subject_enrollment is None
                or item.enrollment_id != subject_enrollment.pk
            ):
                errors.setdefault(field, []).append(_("Evidence must come from the subject's own records."))


def _snapshot(assessment: Assessment) -> dict:
    return {
        "level_id": assessment.level_id,
        "level_number": assessment.level.number,
        "assessor_role": assessment.assessor_role,
        "notes": assessment.notes,
        "links": list(assessment.links),
        "observations": [
            {"indicator_id": o.indicator_id, "note": o.note} for o in assessment.observations.order_by("indicator_id")
        ],
        "check_in_ids": sorted(r.check_in_id for r in assessment.references.all() if r.check_in_id),
        "help_request_ids": sorted(r.help_request_id for r in assessment.references.all() if r.help_request_id),
        "submitted_at": assessment.submitted_at.isoformat(),
    }


def _write_evidence(
    *, assessment: Assessment, observations: Sequence[ObservationInput], check_ins: Sequence, help_requests: Sequence
) -> None:
    organization = assessment.organization
    # Queryset deletes send post_delete per row (the trail records them); bulk_create does not.
    assessment.observations.all().delete()
    assessment.references.all().delete()
    new_observations = Observation.objects.bulk_create(
        [
            Observation(organization=organization, assessment=assessment, indicator=o.indicator, note=o.note)
            for o in observations
        ]
    )
    audit_record_bulk(instances=new_observations, created=True)
    new_references = EvidenceReference.objects.bulk_create(
        [EvidenceReference(organization=organization, assessment=assessment, check_in=c) for c in check_ins]
        + [EvidenceReference(organization=organization, assessment=assessment, help_request=h) for h in help_requests]
    )
    audit_record_bulk(instances=new_references, created=True)


def _record_version(*, assessment: Assessment, recorded_by) -> AssessmentVersion:
    version = AssessmentVersion(
        organization=assessment.organization,
        assessment=assessment,
        number=assessment.version,
        level_number=assessment.level.number,
        snapshot=_snapshot(assessment),
        recorded_by=recorded_by if recorded_by is not None and recorded_by.is_authenticated else None,
    )
    version.save()
    return version


def _emit_submitted(assessment: Assessment) -> None:
    events.event_emit(
        organization=assessment.organization,
        event="assessment.submitted",
        payload={
            "assessment_id": assessment.pk,
            "window_id": assessment.window_id,
            "run_id": assessment.window.run_id,
            "subject_enrollment_id": assessment.subject_enrollment_id,
            "subject_mentor_id": assessment.subject_mentor_id,
            "assessor_role": assessment.assessor_role,
            "level": assessment.level.number,
            "version": assessment.version,
        },
    )


def _is_mentor_assigned(*, organization: Organization, mentor, enrollment) -> bool:
    return MentorAssignment.objects.for_organization(organization).filter(mentor=mentor, enrollment=enrollment).exists()


def _check_assessor(
    *,
    organization: Organization,
    window: AssessmentWindow,
    role: str,
    subject_enrollment,
    subject_mentor,
    assessor_user,
    assessor_mentor,
    assessor_enrollment,
    errors: dict,
) -> None:
    Role = Assessment.Role
    if role == Role.MENTOR:
        if assessor_mentor is None:
            errors.setdefault("assessor_mentor", []).append(_("Say which mentor gives this assessment."))
        elif assessor_mentor.organization_id != organization.id:
            errors.setdefault("assessor_mentor", []).append(_("Unknown mentor."))
        elif subject_enrollment is None:
            errors.setdefault("assessor_role", []).append(_("Mentors assess enrollments, not other mentors."))
        elif not _is_mentor_assigned(organization=organization, mentor=assessor_mentor, enrollment=subject_enrollment):
            errors.setdefault("assessor_mentor", []).append(
                _("This mentor is not assigned to this enrollment, so cannot assess it.")
            )
    elif role == Role.PM:
        membership = (
            Membership.objects.for_organization(organization).filter(user=assessor_user).first()
            if assessor_user is not None
            else None
        )
        if membership is None or membership.role < Membership.Role.PROGRAM_MANAGER:
            errors.setdefault("assessor_user", []).append(
                _("Program-manager assessments need a program manager of this organization.")
            )
    elif role == Role.PEER:
        if subject_enrollment is not None:
            if assessor_enrollment is None or assessor_enrollment.organization_id != organization.id:
                errors.setdefault("assessor_enrollment", []).append(_("Say which enrollment gives this assessment."))
            elif assessor_enrollment.pk == subject_enrollment.pk:
                errors.setdefault("assessor_enrollment", []).append(_("A peer is someone other than the subject."))
            elif assessor_enrollment.run_id != window.run_id:
                errors.setdefault("assessor_enrollment", []).append(_("Peers come from the same run."))
        elif assessor_mentor is None or assessor_mentor.organization_id != organization.id:
            errors.setdefault("assessor_mentor", []).append(_("Say which mentor gives this assessment."))
        elif assessor_mentor.pk == subject_mentor.pk:
            errors.setdefault("assessor_mentor", []).append(_("A peer is someone other than the subject."))
    elif role != Role.SELF:
        errors.setdefault("assessor_role", []).append(_("Unknown assessor role."))


@transaction.atomic
def assessment_submit(
    *,
    organization: Organization,
    window: AssessmentWindow,
    level: Level,
    assessor_role: str,
    subject_enrollment=None,
    subject_mentor=None,
    assessor_user=None,
    assessor_mentor=None,
    assessor_enrollment=None,
    notes: str = "",
    links: Iterable[str] = (),
    observations: Sequence[ObservationInput] = (),
    check_ins: Sequence = (),
    help_requests: Sequence = (),
    recorded_by=None,
    now: datetime | None = None,
) -> Assessment:
    """Record a new assessment: one per window, subject and assessor.

    ``now`` is the moment of submission (tests and demo data set it); the window
    must be open then.
    """
    now = now or timezone.now()
    errors: dict[str, list] = {}
    require_same_organization(organization, window=window)
    if (subject_enrollment is None) == (subject_mentor is None):
        errors.setdefault("subject_enrollment", []).append(_("Assess either one enrollment or one mentor."))
    if subject_enrollment is not None:
        if subject_enrollment.organization_id != organization.id:
            errors.setdefault("subject_enrollment", []).append(_("Unknown enrollment."))
        elif subject_enrollment.run_id != window.run_id:
            errors.setdefault("subject_enrollment", []).append(_("This enrollment is not part of the window's run."))
    if subject_mentor is not None and subject_mentor.organization_id != organization.id:
        errors.setdefault("subject_mentor", []).append(_("Unknown mentor."))
    if level.organization_id != organization.id or level.framework_id != window.framework_id:
        errors.setdefault("level", []).append(
            _("This level is not part of the framework “%(framework)s”.") % {"framework": window.framework}
        )
    _check_window_open(window, now, errors)
    if errors:
        raise ValidationError(errors)

    if assessor_role == Assessment.Role.SELF:
        assessor_enrollment = subject_enrollment
        assessor_mentor = subject_mentor
        assessor_user = None
    _check_assessor(
        organization=organization,
        window=window,
        role=assessor_role,
        subject_enrollment=subject_enrollment,
        subject_mentor=subject_mentor,
        assessor_user=assessor_user,
        assessor_mentor=assessor_mentor,
        assessor_enrollment=assessor_enrollment,
        errors=errors,
    )
    cleaned_links = _clean_links(links, errors)
    _check_evidence(
        organization=organization,
        window=window,
        subject_enrollment=subject_enrollment,
        observations=observations,
        check_ins=check_ins,
        help_requests=help_requests,
        errors=errors,
    )
    if errors:
        raise ValidationError(errors)

    assessment = Assessment(
        organization=organization,
        window=window,
        subject_enrollment=subject_enrollment,
        subject_mentor=subject_mentor,
        assessor_role=assessor_role,
        assessor_user=assessor_user if assessor_role == Assessment.Role.PM else None,
        assessor_mentor=assessor_mentor if assessor_role != Assessment.Role.PM else None,
        assessor_enrollment=assessor_enrollment
        if assessor_role in (Assessment.Role.SELF, Assessment.Role.PEER)
        else None,
        level=level,
        notes=notes,
        links=cleaned_links,
        submitted_at=now,
        version=1,
    )
    assessment.compute_keys()
    duplicate = (
        Assessment.objects.for_organization(organization)
        .filter(window=window, subject_key=assessment.subject_key, assessor_key=assessment.assessor_key)
        .exists()
    )
    if duplicate:
        if assessor_role == Assessment.Role.SELF:
            message = _("A self-assessment for this subject already exists in this window; change it instead.")
        else:
            message = _("This assessor has already assessed this subject in this window; change it instead.")
        raise ValidationError({"__all__": [message]})
    assessment.full_clean()
    assessment.save()
    _write_evidence(assessment=assessment, observations=observations, check_ins=check_ins, help_requests=help_requests)
    _record_version(assessment=assessment, recorded_by=recorded_by)
    _emit_submitted(assessment)
    return assessment


@transaction.atomic
def assessment_revise(
    *,
    organization: Organization,
    assessment: Assessment,
    level: Level,
    notes: str = "",
    links: Iterable[str] = (),
    observations: Sequence[ObservationInput] = (),
    check_ins: Sequence = (),
    help_requests: Sequence = (),
    recorded_by=None,
    now: datetime | None = None,
) -> Assessment:
    """Change an assessment while its window is open. The earlier version is kept."""
    now = now or timezone.now()
    require_same_organization(organization, assessment=assessment)
    # Lock the row so that two revisions at once get distinct version numbers.
    assessment = Assessment.objects.for_organization(organization).select_for_update().get(pk=assessment.pk)
    window = assessment.window
    errors: dict[str, list] = {}
    _check_window_open(window, now, errors)
    if level.organization_id != organization.id or level.framework_id != window.framework_id:
        errors.setdefault("level", []).append(
            _("This level is not part of the framework “%(framework)s”.") % {"framework": window.framework}
        )
    cleaned_links = _clean_links(links, errors)
    _check_evidence(
        organization=organization,
        window=window,
        subject_enrollment=assessment.subject_enrollment,
        observations=observations,
        check_ins=check_ins,
        help_requests=help_requests,
        errors=errors,
    )
    if errors:
        raise ValidationError(errors)
    assessment.level = level
    assessment.notes = notes
    assessment.links = cleaned_links
    assessment.submitted_at = now
    assessment.version += 1
    assessment.full_clean()
    assessment.save()
    _write_evidence(assessment=assessment, observations=observations, check_ins=check_ins, help_requests=help_requests)
    _record_version(assessment=assessment, recorded_by=recorded_by)
    _emit_submitted(assessment)
    return assessment


# --- Value-gap surveys -------------------------------------------------------------


@transaction.atomic
def value_survey_create(
    *,
    organization: Organization,
    program,
    title: str,
    opens_at: datetime | None,
    closes_at: datetime,
    statements: Sequence[Mapping] = (),
    run=None,
    milestone=None,
    introduction: str = "",
    is_anonymous: bool = False,
    ask_participants: bool = True,
    ask_mentors: bool = True,
) -> ValueSurvey:
    """Create a survey with the value statements the organization believes it delivers.

    Each statement is a mapping with ``text``, ``tier`` and ``predicted_importance``.
    A survey of one stage (``milestone``, of ``run``) opens on the milestone's due date
    (``opens_at`` is then taken from it). Invitations go out through the reminders
    when the survey opens (:mod:`notifications.planning`).
    """
    require_same_organization(organization, program=program, run=run, milestone=milestone)
    survey = ValueSurvey(
        organization=organization,
        program=program,
        run=run,
        milestone=milestone,
        title=title,
        introduction=introduction,
        opens_at=opens_at,
        closes_at=closes_at,
        is_anonymous=is_anonymous,
        ask_participants=ask_participants,
        ask_mentors=ask_mentors,
    )
    if milestone is not None and survey.opens_at is None:
        survey.opens_at = survey.stage_opens_at()
    survey.full_clean()
    survey.save()
    for position, data in enumerate(statements, start=1):
        statement = ValueStatement(
            organization=organization,
            survey=survey,
            position=position,
            text=data["text"],
            tier=data.get("tier", ValueStatement.Tier.ESSENTIAL),
            predicted_importance=data["predicted_importance"],
        )
        try:
            statement.full_clean()
        except ValidationError as error:
            raise ValidationError({f"statements[{position}]": error.messages}) from error
        statement.save()
    value_survey_invitations_plan(organization=organization, survey=survey)
    return survey


SURVEY_FIELDS = (
    "program",
    "run",
    "milestone",
    "title",
    "introduction",
    "opens_at",
    "closes_at",
    "is_anonymous",
    "ask_participants",
    "ask_mentors",
)
STATEMENT_FIELDS = ("survey", "position", "text", "tier", "predicted_importance")


@transaction.atomic
def value_survey_update(*, organization: Organization, survey: ValueSurvey, **changes) -> ValueSurvey:
    """Change a survey; one that is open now (perhaps just opened) sends its invitations right after the commit."""
    validated_change(survey, changes, editable=SURVEY_FIELDS, organization=organization)
    value_survey_invitations_plan(organization=organization, survey=survey)
    return survey


def value_statement_create(*, organization: Organization, **fields) -> ValueStatement:
    return validated_create(ValueStatement, organization=organization, editable=STATEMENT_FIELDS, **fields)


def value_statement_update(*, organization: Organization, statement: ValueStatement, **changes) -> ValueStatement:
    return validated_change(statement, changes, editable=STATEMENT_FIELDS, organization=organization)


def value_survey_invitations_plan(*, organization: Organization, survey: ValueSurvey) -> None:
    """A survey that is open already: plan its invitations right after the commit, not at the next beat.

    (A survey that opens later is invited by the reminder planner when it opens.)
    """
    if survey.is_open():
        messages_due.send(sender=ValueSurvey, organization=organization)


def respondent_key(*, survey: ValueSurvey, enrollment=None, mentor=None) -> str:
    """The identity that keeps one answer per person.

    In an anonymous survey it is a keyed hash: it tells two answers of the same
    person apart from answers of two people, but not who the person is.
    """
    plain = f"enrollment:{enrollment.pk}" if enrollment is not None else f"mentor:{mentor.pk}"
    if not survey.is_anonymous:
        return plain
    return "anon:" + salted_hmac("assessments.survey-respondent", f"{survey.pk}:{plain}").hexdigest()[:60]


def _rating_value(value, field: str, statement: ValueStatement, errors: dict) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not RATING_MIN <= number <= RATING_MAX:
        errors.setdefault("ratings", []).append(
            _("“%(statement)s”: %(field)s must be a whole number from %(low)d to %(high)d.")
            % {"statement": statement.text, "field": field, "low": RATING_MIN, "high": RATING_MAX}
        )
        return None
    return number


def _check_respondent(*, organization: Organization, survey: ValueSurvey, enrollment, mentor, errors: dict) -> None:
    if (enrollment is None) == (mentor is None):
        errors.setdefault("__all__", []).append(_("A response comes from one participant or one mentor."))
        return
    if enrollment is not None:
        if enrollment.organization_id != organization.id:
            errors.setdefault("enrollment", []).append(_("Unknown enrollment."))
        elif not survey.ask_participants:
            errors.setdefault("enrollment", []).append(_("This survey does not ask participants."))
        elif survey.run_id and enrollment.run_id != survey.run_id:
            errors.setdefault("enrollment", []).append(_("This participant is not in the surveyed run."))
        elif enrollment.run.program_id != survey.program_id:
            errors.setdefault("enrollment", []).append(_("This participant is not in the surveyed program."))
    if mentor is not None:
        if mentor.organization_id != organization.id:
            errors.setdefault("mentor", []).append(_("Unknown mentor."))
        elif not survey.ask_mentors:
            errors.setdefault("mentor", []).append(_("This survey does not ask mentors."))


@transaction.atomic
def survey_response_submit(
    *,
    organization: Organization,
    survey: ValueSurvey,
    ratings: Mapping[int, tuple[object, object]],
    enrollment=None,
    mentor=None,
    own_values: str = "",
    improve: str = "",
    stop: str = "",
    now: datetime | None = None,
) -> SurveyResponse:
    """Save one person's answers; answering again while the survey is open replaces them.

    ``ratings`` maps each statement id to ``(importance, satisfaction)``, both 1 to 5.
    Every statement of the survey must be rated.
    """
    now = now or timezone.now()
    require_same_organization(organization, survey=survey)
    errors: dict[str, list] = {}
    if now < survey.opens_at:
        errors.setdefault("__all__", []).append(_("This survey is not open yet."))
    elif now >= survey.closes_at:
        errors.setdefault("__all__", []).append(
            _("This survey closed at %(when)s; answers are no longer accepted.")
            % {"when": _format_moment(survey.closes_at)}
        )
    _check_respondent(organization=organization, survey=survey, enrollment=enrollment, mentor=mentor, errors=errors)
    statements = {s.pk: s for s in survey.statements.all()}
    unknown = set(ratings) - set(statements)
    if unknown:
        errors.setdefault("ratings", []).append(_("Some ratings are for statements that are not in this survey."))
    values: dict[int, tuple[int | None, int | None]] = {}
    for statement_id, statement in statements.items():
        if statement_id not in ratings:
            errors.setdefault("ratings", []).append(
                _("Rate “%(statement)s” for importance and satisfaction.") % {"statement": statement.text}
            )
            continue
        importance, satisfaction = ratings[statement_id]
        values[statement_id] = (
            _rating_value(importance, _("importance"), statement, errors),
            _rating_value(satisfaction, _("satisfaction"), statement, errors),
        )
    if errors:
        raise ValidationError(errors)

    kind = SurveyResponse.RespondentKind.PARTICIPANT if enrollment is not None else SurveyResponse.RespondentKind.MENTOR
    key = respondent_key(survey=survey, enrollment=enrollment, mentor=mentor)
    response = (
        SurveyResponse.objects.for_organization(organization)
        .select_for_update()
        .filter(survey=survey, respondent_key=key)
        .first()
    )
    if response is None:
        response = SurveyResponse(organization=organization, survey=survey, respondent_key=key)
    response.respondent_kind = kind
    # An anonymous survey stores no link to the person.
    response.enrollment = None if survey.is_anonymous else enrollment
    response.mentor = None if survey.is_anonymous else mentor
    response.own_values = own_values.strip()
    response.improve = improve.strip()
    response.stop = stop.strip()
    response.submitted_at = now
    response.full_clean()
    response.save()
    response.ratings.all().delete()
    new_ratings = StatementRating.objects.bulk_create(
        [
            StatementRating(
                organization=organization,
                response=response,
                statement=statements[statement_id],
                importance=importance,
                satisfaction=satisfaction,
            )
            for statement_id, (importance, satisfaction) in values.items()
        ]
    )
    audit_record_bulk(instances=new_ratings, created=True)
    return response

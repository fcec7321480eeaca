"""Writes of the mentors app: keyword-only, atomic, validated with ``full_clean()``."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from core import rls
from core import selectors as core_selectors
from core import services as core_services
from core.audit import audit_record_bulk
from core.events import event_emit
from core.models import Membership, Organization, User
from core.public_url import public_url
from core.tenancy import require_same_organization
from mentors import links, selectors
from mentors.models import (
    DevelopmentGoal,
    GoalCheckIn,
    KeyResult,
    KeyResultReading,
    Mentor,
    MentoringApproach,
    MentoringSession,
    MentorInvitation,
    SessionAttendance,
    SessionRating,
)

INVITATION_VALID_FOR = datetime.timedelta(days=14)

GOAL_FIELDS = (
    "title",
    "why_it_matters",
    "target_date",
    "status",
    "visibility",
    "checkin_cadence_days",
    "practice_areas",
)
PROFILE_FIELDS = ("bio", "motivation", "expertise", "availability", "capacity", "other_affiliations")
MATCHING_PROFILE_FIELDS = ("expertise_areas", "industries", "stages", "languages")
SESSION_FIELDS = ("held_on", "duration_minutes", "topics", "notes", "next_steps")


def _send_in_language(*, language: str, to: str, subject, template: str, context: dict) -> None:
    """Send a text + HTML email rendered in the recipient's language."""
    with translation.override(language):
        send_mail(
            subject=str(subject),
            message=render_to_string(f"mentors/email/{template}.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[to],
            html_message=render_to_string(f"mentors/email/{template}.html", context),
        )


# --- Mentors -------------------------------------------------------------------------------


@transaction.atomic
def mentor_profile_update(*, organization: Organization, mentor: Mentor, **fields) -> Mentor:
    """The mentor edits their own profile (bio, motivation, expertise, capacity, ...)."""
    require_same_organization(organization, mentor=mentor)
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"Not profile fields: {sorted(unknown)}")
    if isinstance(fields.get("expertise"), str):
        fields["expertise"] = [item.strip() for item in fields["expertise"].split(",") if item.strip()]
    for name, value in fields.items():
        setattr(mentor, name, value)
    mentor.full_clean()
    mentor.save()
    return mentor


@transaction.atomic
def mentor_matching_profile_update(
    *,
    organization: Organization,
    mentor: Mentor,
    expertise_areas: list[str],
    industries: list[str],
    stages: list[str],
    languages: list[str],
) -> Mentor:
    """The mentor's matching profile: codes of ``programs.vocabulary`` (unknown codes are field errors)."""
    require_same_organization(organization, mentor=mentor)
    mentor.expertise_areas = list(expertise_areas)
    mentor.industries = list(industries)
    mentor.stages = list(stages)
    mentor.languages = list(languages)
    mentor.full_clean()
    mentor.save(update_fields=[*MATCHING_PROFILE_FIELDS, "updated_at"])
    return mentor


# --- Invitations ---------------------------------------------------------------------------


@transaction.atomic
def invitation_create(
    *,
    organization: Organization,
    email: str,
    name: str = "",
    language: str | None = None,
    message: str = "",
    invited_by: User | None = None,
    base_url: str | None = None,
    send_email: bool = True,
) -> tuple[MentorInvitation, str]:
    """Invite someone to mentor for the organization; the email goes out on commit.

    Returns the invitation and the raw token (only its hash is stored). Earlier
    pending invitations to the same address stop working.
    """
    email = (email or "").strip().lower()
    existing_user = User.objects.filter(email__iexact=email).first() if email else None
    if existing_user is not None and selectors.mentor_for_user(organization=organization, user=existing_user):
        mentor = selectors.mentor_for_user(organization=organization, user=existing_user)
        if mentor.status == Mentor.Status.ACTIVE:
            raise ValidationError({"email": _("This person is already an active mentor of the organization.")})
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation = MentorInvitation(
        organization=organization,
        email=email,
        name=name.strip(),
        language=language or (existing_user.language if existing_user else organization.language),
        message=message.strip(),
        invited_by=invited_by,
        token_hash=selectors.invitation_token_hash(token),
        expires_at=now + INVITATION_VALID_FOR,
    )
    invitation.full_clean()
    # Loaded (and locked) first, so that the trail has each one's old expiry.
    superseded = list(
        MentorInvitation.objects.for_organization(organization)
        .select_for_update()
        .filter(email__iexact=email, accepted_at__isnull=True, expires_at__gt=now)
    )
    if superseded:
        MentorInvitation.objects.for_organization(organization).filter(pk__in=[i.pk for i in superseded]).update(
            expires_at=now
        )
        for earlier in superseded:
            earlier.expires_at = now
        audit_record_bulk(instances=superseded, created=False, update_fields=["expires_at"])
    invitation.save()
    link = public_url(
        reverse("mentors:invitation_accept", kwargs={"org_slug": organization.slug, "token": token}),
        base_url=base_url,
    )
    context = {"invitation": invitation, "organization": organization, "link": link, "inviter": invited_by}
    if not send_email:
        return invitation, token
    rls.after_commit(
        lambda: _send_in_language(
            language=invitation.language,
            to=invitation.email,
            subject=_invitation_subject(organization, invitation.language),
            template="invitation",
            context=context,
        )
    )
    return invitation, token


def _invitation_subject(organization: Organization, language: str) -> str:
    with translation.override(language):
        return str(_("%(organization)s invites you to mentor") % {"organization": organization.name})


class InvitationError(ValidationError):
    """An invitation that cannot be accepted: unknown, used or expired (see ``code``)."""


def invitation_check(*, invitation: MentorInvitation | None) -> None:
    """Raise :class:`InvitationError` with a clear message unless the link still works."""
    if invitation is None:
        raise InvitationError(_("This invitation link is not valid. Check that you copied all of it."), code="invalid")
    if invitation.is_used:
        raise InvitationError(
            _("This invitation has already been used. Log in with the account that accepted it."), code="used"
        )
    if invitation.is_expired:
        raise InvitationError(
            _("This invitation has expired. Ask the program team to send you a new one."), code="expired"
        )


@transaction.atomic
def invitation_accept(
    *,
    organization: Organization,
    token: str,
    user: User | None = None,
    name: str = "",
    password: str = "",
) -> Mentor:
    """Accept an invitation: as the logged-in ``user``, or by creating an account.

    Without ``user`` a new account is made with the invitation's email and the given
    password; if that email already has an account, the person must log in instead
    (an invitation link never sets the password of an existing account). The user
    becomes a member with the mentor role (a higher role they already have is kept)
    and an active mentor. The link cannot be used again.
    """
    invitation = selectors.invitation_for_token(organization=organization, token=token, for_update=True)
    invitation_check(invitation=invitation)
    if user is None:
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise InvitationError(
                _("An account with this email address already exists. Log in to accept the invitation."),
                code="account_exists",
            )
        candidate = User(email=invitation.email, name=(name or invitation.name).strip(), language=invitation.language)
        try:
            validate_password(password, user=candidate)
        except ValidationError as error:
            raise ValidationError({"password": error.messages})
        user = User.objects.create_user(
            email=invitation.email, password=password, name=candidate.name, language=invitation.language
        )
    membership = core_selectors.membership_get(user=user, organization=organization)
    if membership is None:
        core_services.membership_grant(organization=organization, user=user, role=Membership.Role.MENTOR)
    mentor = selectors.mentor_for_user(organization=organization, user=user)
    if mentor is None:
        mentor = Mentor(organization=organization, user=user, status=Mentor.Status.ACTIVE)
        mentor.full_clean()
        mentor.save()
    elif mentor.status != Mentor.Status.ACTIVE:
        mentor.status = Mentor.Status.ACTIVE
        mentor.save(update_fields=["status", "updated_at"])
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.mentor = mentor
    invitation.save(update_fields=["accepted_at", "accepted_by", "mentor", "updated_at"])
    return mentor


# --- Development goals -------------------------------------------------------------------------


def _goal_event(goal: DevelopmentGoal, *, was_shared: bool = False) -> None:
    """Tell integrations about a shared goal. Private goals stay private, even from webhooks.

    A goal that was just made private sends one last event without its content, so
    that integrators can drop what they had.
    """
    if goal.is_shared:
        payload = {
            "goal_id": goal.pk,
            "mentor_id": goal.mentor_id,
            "title": goal.title,
            "status": goal.status,
            "visibility": goal.visibility,
            "progress": int(selectors.goal_progress(goal)),
            "archived": goal.is_archived,
        }
    elif was_shared:
        payload = {"goal_id": goal.pk, "mentor_id": goal.mentor_id, "visibility": goal.visibility}
    else:
        return
    organization = goal.organization
    rls.after_commit(lambda: event_emit(organization=organization, event="mentor_goal.updated", payload=payload))


def _decimal(value, field: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({field: _("Enter a number.")})


@transaction.atomic
def goal_create(
    *,
    organization: Organization,
    mentor: Mentor,
    title: str,
    why_it_matters: str = "",
    target_date: datetime.date | None = None,
    visibility: str = DevelopmentGoal.Visibility.PRIVATE,
    checkin_cadence_days: int = 14,
    status: str = DevelopmentGoal.Status.ON_TRACK,
    practice_areas: Iterable[str] = (),
    key_results: Iterable[dict] = (),
) -> DevelopmentGoal:
    """A mentor creates one of their own goals, with its key results."""
    require_same_organization(organization, mentor=mentor)
    goal = DevelopmentGoal(
        organization=organization,
        mentor=mentor,
        title=title,
        why_it_matters=why_it_matters,
        target_date=target_date,
        visibility=visibility,
        checkin_cadence_days=checkin_cadence_days,
        status=status,
        practice_areas=list(practice_areas),
    )
    goal.full_clean()
    goal.save()
    for spec in key_results:
        key_result_add(organization=organization, goal=goal, **spec)
    _goal_event(goal)
    return goal


@transaction.atomic
def goal_update(*, organization: Organization, goal: DevelopmentGoal, **fields) -> DevelopmentGoal:
    require_same_organization(organization, goal=goal)
    unknown = set(fields) - set(GOAL_FIELDS)
    if unknown:
        raise TypeError(f"Not goal fields: {sorted(unknown)}")
    was_shared = goal.is_shared
    for name, value in fields.items():
        setattr(goal, name, value)
    goal.full_clean()
    goal.save()
    _goal_event(goal, was_shared=was_shared)
    return goal


@transaction.atomic
def goal_archive(*, organization: Organization, goal: DevelopmentGoal, user: User | None = None) -> DevelopmentGoal:
    require_same_organization(organization, goal=goal)
    core_services.record_archive(obj=goal, user=user)
    _goal_event(goal)
    return goal


@transaction.atomic
def goal_restore(*, organization: Organization, goal: DevelopmentGoal, user: User | None = None) -> DevelopmentGoal:
    require_same_organization(organization, goal=goal)
    core_services.record_restore(obj=goal, user=user)
    _goal_event(goal)
    return goal


def _require_open_goal(goal: DevelopmentGoal) -> None:
    if goal.is_archived:
        raise ValidationError(_("This goal is archived. Restore it before changing it or checking in."))


@transaction.atomic
def key_result_add(
    *,
    organization: Organization,
    goal: DevelopmentGoal,
    title: str,
    target_value,
    start_value=Decimal("0"),
    current_value=None,
    unit: str = "",
) -> KeyResult:
    require_same_organization(organization, goal=goal)
    _require_open_goal(goal)
    start = _decimal(start_value, "start_value")
    key_result = KeyResult(
        organization=organization,
        goal=goal,
        title=title,
        start_value=start,
        current_value=start if current_value in (None, "") else _decimal(current_value, "current_value"),
        target_value=_decimal(target_value, "target_value"),
        unit=unit,
    )
    key_result.full_clean()
    key_result.save()
    return key_result


@transaction.atomic
def key_result_update(*, organization: Organization, key_result: KeyResult, **fields) -> KeyResult:
    """Change a key result's definition (title, start, target, unit).

    Its current value moves only through a goal check-in, so the history stays true.
    """
    require_same_organization(organization, key_result=key_result)
    _require_open_goal(key_result.goal)
    allowed = {"title", "start_value", "target_value", "unit"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"Not editable key-result fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(key_result, name, _decimal(value, name) if name.endswith("_value") else value)
    key_result.full_clean()
    key_result.save()
    return key_result


@transaction.atomic
def key_result_remove(*, organization: Organization, key_result: KeyResult) -> None:
    require_same_organization(organization, key_result=key_result)
    _require_open_goal(key_result.goal)
    key_result.delete()


@transaction.atomic
def goal_check_in(
    *,
    organization: Organization,
    goal: DevelopmentGoal,
    confidence: int,
    values: dict[int, object] | None = None,
    note: str = "",
    status: str | None = None,
) -> GoalCheckIn:
    """Record new key-result values, a note and a confidence; the progress follows.

    ``values`` maps key-result ids of this goal to their new current values; key
    results left out keep their value. The goal's status moves to ``status`` if given.
    """
    require_same_organization(organization, goal=goal)
    _require_open_goal(goal)
    key_results = {kr.pk: kr for kr in KeyResult.objects.for_organization(organization).filter(goal=goal)}
    values = values or {}
    errors = {}
    new_values: dict[int, Decimal] = {}
    for key_result_id, raw in values.items():
        key_result = key_results.get(int(key_result_id))
        if key_result is None:
            errors["values"] = _("A value was given for a key result of another goal.")
            continue
        try:
            new_values[key_result.pk] = Decimal(str(raw))
        except (InvalidOperation, TypeError, ValueError):
            errors[f"value_{key_result.pk}"] = _("Enter a number.")
    if errors:
        raise ValidationError(errors)
    for key_result_id, value in new_values.items():
        key_result = key_results[key_result_id]
        key_result.current_value = value
        key_result.full_clean()
        key_result.save(update_fields=["current_value", "updated_at"])
    if status:
        goal.status = status
    goal.full_clean()
    goal.save(update_fields=["status", "updated_at"])
    progress = selectors.goal_progress(
        DevelopmentGoal.objects.for_organization(organization).prefetch_related("key_results").get(pk=goal.pk)
    )
    check_in = GoalCheckIn(
        organization=organization,
        goal=goal,
        progress=progress,
        note=note,
        confidence=confidence,
        status=goal.status,
    )
    check_in.full_clean()
    check_in.save()
    readings = KeyResultReading.objects.bulk_create(
        [
            KeyResultReading(organization=organization, check_in=check_in, key_result=kr, value=kr.current_value)
            for kr in key_results.values()
        ]
    )
    audit_record_bulk(instances=readings, created=True)
    _goal_event(goal)
    return check_in


# --- Mentoring approach --------------------------------------------------------------------------


@transaction.atomic
def approach_save(
    *, organization: Organization, mentor: Mentor, run, format: str = "", cadence: str = "", focus: str = ""
) -> MentoringApproach:
    """The mentor's own approach for a run they are assigned to (created or updated)."""
    require_same_organization(organization, mentor=mentor, run=run)
    if not selectors.runs_for_mentor(organization=organization, mentor=mentor).filter(pk=run.pk).exists():
        raise ValidationError({"run": _("You are not assigned to this run.")})
    approach = selectors.approach_for_run(organization=organization, mentor=mentor, run=run) or MentoringApproach(
        organization=organization, mentor=mentor, run=run
    )
    approach.format, approach.cadence, approach.focus = format, cadence, focus
    approach.full_clean()
    approach.save()
    return approach


# --- Sessions and ratings --------------------------------------------------------------------------


def _check_attendees(*, organization: Organization, mentor: Mentor, enrollments) -> list:
    enrollments = list(enrollments)
    if not enrollments:
        return []
    mentee_ids = set(
        selectors.mentee_enrollments(organization=organization, mentor=mentor).values_list("id", flat=True)
    )
    strangers = [e for e in enrollments if e.organization_id != organization.id or e.pk not in mentee_ids]
    if strangers:
        raise ValidationError({"attendees": _("Choose only your own mentees.")})
    return enrollments


@transaction.atomic
def session_log(
    *,
    organization: Organization,
    mentor: Mentor,
    held_on: datetime.date,
    duration_minutes: int = 60,
    topics: str = "",
    notes: str = "",
    next_steps: str = "",
    attendees: Iterable = (),
    request_ratings: bool = True,
    base_url: str | None = None,
) -> MentoringSession:
    """Log a session held with some of the mentor's mentees.

    After commit, each participant present who has an email gets a signed link to
    rate the session.
    """
    require_same_organization(organization, mentor=mentor)
    enrollments = _check_attendees(organization=organization, mentor=mentor, enrollments=attendees)
    session = MentoringSession(
        organization=organization,
        mentor=mentor,
        held_on=held_on,
        duration_minutes=duration_minutes,
        topics=topics,
        notes=notes,
        next_steps=next_steps,
    )
    session.full_clean()
    if session.held_on and session.held_on > timezone.localdate() + datetime.timedelta(days=1):
        raise ValidationError({"held_on": _("A session can be logged once it has taken place.")})
    session.save()
    attendance = SessionAttendance.objects.bulk_create(
        [SessionAttendance(organization=organization, session=session, enrollment=e) for e in enrollments]
    )
    audit_record_bulk(instances=attendance, created=True)
    if request_ratings and enrollments:
        session_id = session.pk
        rls.after_commit(
            lambda: session_rating_requests_send(organization=organization, session_id=session_id, base_url=base_url)
        )
    return session


@transaction.atomic
def session_update(
    *, organization: Organization, session: MentoringSession, attendees: Iterable | None = None, **fields
) -> MentoringSession:
    require_same_organization(organization, session=session)
    unknown = set(fields) - set(SESSION_FIELDS)
    if unknown:
        raise TypeError(f"Not session fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(session, name, value)
    session.full_clean()
    session.save()
    if attendees is not None:
        enrollments = _check_attendees(organization=organization, mentor=session.mentor, enrollments=attendees)
        # A queryset delete sends post_delete per row (the trail records it); bulk_create does not.
        SessionAttendance.objects.for_organization(organization).filter(session=session).exclude(
            enrollment__in=enrollments
        ).delete()
        present = set(
            SessionAttendance.objects.for_organization(organization)
            .filter(session=session)
            .values_list("enrollment_id", flat=True)
        )
        added = SessionAttendance.objects.bulk_create(
            [
                SessionAttendance(organization=organization, session=session, enrollment=e)
                for e in enrollments
                if e.pk not in present
            ]
        )
        audit_record_bulk(instances=added, created=True)
    return session


def session_rating_link(*, session: MentoringSession, participant, base_url: str | None = None) -> str:
    token = links.session_rating_token(session=session, participant=participant)
    return public_url(reverse("mentors:session_rate", kwargs={"token": token}), base_url=base_url)


def session_rating_requests_send(*, organization: Organization, session_id: int, base_url: str | None = None) -> int:
    """Email each participant present a signed link to rate the session. Returns the count."""
    session = MentoringSession.objects.for_organization(organization).select_related("mentor__user").get(pk=session_id)
    sent = 0
    for participant in selectors.session_participants(organization=organization, session=session):
        if not participant.email:
            continue
        context = {
            "session": session,
            "participant": participant,
            "organization": organization,
            "link": session_rating_link(session=session, participant=participant, base_url=base_url),
        }
        with translation.override(participant.language):
            subject = _("How was your session with %(mentor)s?") % {"mentor": session.mentor}
        _send_in_language(
            language=participant.language,
            to=participant.email,
            subject=subject,
            template="rating_request",
            context=context,
        )
        sent += 1
    return sent


@transaction.atomic
def session_rate(
    *, organization: Organization, session: MentoringSession, participant, score: int, comment: str = ""
) -> SessionRating:
    """A participant present at the session rates it (again: the latest rating counts)."""
    require_same_organization(organization, session=session, participant=participant)
    present = {p.pk for p in selectors.session_participants(organization=organization, session=session)}
    if participant.pk not in present:
        raise ValidationError(_("Only the mentees present at a session can rate it."))
    rating = SessionRating.objects.for_organization(organization).filter(
        session=session, participant=participant
    ).first() or SessionRating(organization=organization, session=session, participant=participant)
    rating.score = score
    rating.comment = comment
    rating.full_clean()
    rating.save()
    return rating

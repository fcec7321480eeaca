"""Writes of the privacy app: data-subject requests, export, correction, erasure, retention.

Every function is keyword-only and atomic and takes ``organization=``. Erasure never
saves a row with ``save()`` (the audit trail would copy the old identity into a new
event); it updates, then writes one audit event that says what was erased, not who.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Max, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core import privacy, rls
from core.models import AuditEvent, Membership, Organization, User
from core.tenancy import require_same_organization
from mentors.models import Mentor
from privacy import erasure
from privacy.models import DataSubjectRequest, PrivacySettings
from privacy.rendering import export_for_display
from programs.models import Enrollment, Participant, Run

#: What erased text and names become. Not translated: it is stored, and read in any language.
ERASED = "[erased]"

#: The participant fields a correction may change (the same fields the admin and API edit).
PARTICIPANT_CORRECTABLE = ("name", "email", "phone", "company", "stage", "language")
USER_CORRECTABLE = ("name",)


# --- the person -------------------------------------------------------------------------------


def subject_for(*, organization: Organization, participant=None, user=None) -> privacy.Subject:
    """The person, with every name, address and phone under which the organization knows them."""
    if (participant is None) == (user is None):
        raise ValidationError({"participant": _("Name either a participant or a user, not both.")})
    if participant is not None:
        require_same_organization(organization, participant=participant)
        subject = privacy.Subject(organization=organization, kind=privacy.PARTICIPANT, pk=participant.pk)
    else:
        if not user_belongs(organization=organization, user=user):
            raise ValidationError({"user": _("This user is neither a member nor a mentor of this organization.")})
        subject = privacy.Subject(organization=organization, kind=privacy.USER, pk=user.pk)
    subject.identity = privacy.identity_of(subject)
    return subject


def user_belongs(*, organization: Organization, user) -> bool:
    return (
        Membership.objects.for_organization(organization).filter(user=user).exists()
        or Mentor.objects.for_organization(organization).filter(user=user).exists()
    )


def subject_of_request(request: DataSubjectRequest) -> privacy.Subject:
    return subject_for(organization=request.organization, participant=request.participant, user=request.user)


def _label(subject: privacy.Subject) -> str:
    names = sorted(subject.identity.names) or sorted(subject.identity.emails)
    return names[0][:200] if names else f"#{subject.pk}"


FIRST_PARTS = ("participant", "account")


def _part_order(part) -> int:
    return FIRST_PARTS.index(part.key) if part.key in FIRST_PARTS else len(FIRST_PARTS)


# --- access -----------------------------------------------------------------------------------


def person_export(*, organization: Organization, subject: privacy.Subject) -> dict:
    """Everything the organization holds about the person, part by part (every app's hook)."""
    parts = []
    # Who the person is first (participant record or account), then each app's part as registered.
    for part in sorted(privacy.export_parts(), key=_part_order):
        rows = part.export(subject)
        parts.append(
            {"key": part.key, "title": str(part.title), "rows": json.loads(json.dumps(rows, cls=DjangoJSONEncoder))}
        )
    return {
        "organization": organization.name,
        "person": {"kind": subject.kind, "id": subject.pk},
        "generated_at": timezone.now().isoformat(),
        "parts": parts,
    }


def export_json(export: dict) -> str:
    return json.dumps(export, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder)


# --- requests ---------------------------------------------------------------------------------


def _clean_corrections(kind: str, corrections, *, participant, user) -> dict:
    if kind != DataSubjectRequest.Kind.CORRECTION:
        if corrections:
            raise ValidationError({"corrections": _("Only a correction request lists corrections.")})
        return {}
    allowed = PARTICIPANT_CORRECTABLE if participant is not None else USER_CORRECTABLE
    if not isinstance(corrections, dict) or not corrections:
        raise ValidationError({"corrections": _("List the fields to correct and their right values.")})
    unknown = sorted(set(corrections) - set(allowed))
    if unknown:
        raise ValidationError(
            {"corrections": _("These fields cannot be corrected here: %(fields)s.") % {"fields": ", ".join(unknown)}}
        )
    if not all(isinstance(value, str) for value in corrections.values()):
        raise ValidationError({"corrections": _("Each corrected value is text.")})
    return dict(corrections)


@transaction.atomic
def data_subject_request_open(
    *,
    organization: Organization,
    kind: str,
    participant=None,
    user=None,
    received_on: datetime.date | None = None,
    contact_email: str = "",
    corrections: dict | None = None,
) -> DataSubjectRequest:
    """Record a person's request; the answer is due ``PRIVACY_REQUEST_DUE_DAYS`` after it arrived."""
    if kind not in DataSubjectRequest.Kind.values:
        raise ValidationError({"kind": _("Choose access, correction or erasure.")})
    subject = subject_for(organization=organization, participant=participant, user=user)
    if participant is not None and participant.name == ERASED and not participant.email:
        raise ValidationError({"participant": _("This person's data has already been erased.")})
    received_on = received_on or timezone.localdate()
    if received_on > timezone.localdate():
        raise ValidationError({"received_on": _("A request cannot arrive in the future.")})
    request = DataSubjectRequest(
        organization=organization,
        kind=kind,
        participant=participant,
        user=user,
        person_label=_label(subject),
        contact_email=(contact_email or (participant or user).email or "").strip().lower(),
        received_on=received_on,
        due_on=received_on + datetime.timedelta(days=settings.PRIVACY_REQUEST_DUE_DAYS),
        corrections=_clean_corrections(kind, corrections, participant=participant, user=user),
    )
    request.full_clean()
    request.save()
    return request


def _require_open(request: DataSubjectRequest, organization: Organization) -> None:
    require_same_organization(organization, request=request)
    if not request.is_open:
        raise ValidationError({"status": _("This request has already been carried out or closed.")})


@transaction.atomic
def data_subject_request_carry_out(
    *, organization: Organization, request: DataSubjectRequest, by: User | None
) -> DataSubjectRequest:
    """Do what the person asked: prepare the copy, make the corrections, or erase them."""
    request = DataSubjectRequest.objects.for_organization(organization).select_for_update().get(pk=request.pk)
    _require_open(request, organization)
    subject = subject_of_request(request)
    if request.kind == DataSubjectRequest.Kind.ACCESS:
        export = person_export(organization=organization, subject=subject)
        outcome = {"parts": {p["key"]: len(p["rows"]) for p in export["parts"]}}
    elif request.kind == DataSubjectRequest.Kind.CORRECTION:
        outcome = {"corrected": person_correct(organization=organization, request=request, subject=subject)}
    else:
        outcome = person_erase(organization=organization, subject=subject, request=request)
        request.refresh_from_db()
    request.status = DataSubjectRequest.Status.DONE
    request.handled_by = by if by is not None and by.pk != request.user_id else None
    request.carried_out_at = timezone.now()
    request.outcome = outcome
    request.save(update_fields=["status", "handled_by", "carried_out_at", "outcome", "updated_at"])
    return request


def person_correct(*, organization: Organization, request: DataSubjectRequest, subject: privacy.Subject) -> list[str]:
    """Apply the corrections to the participant (or user name); recorded by the audit trail as usual."""
    changes = request.corrections or {}
    if subject.is_participant:
        target = Participant.objects.for_organization(organization).get(pk=subject.pk)
    else:
        target = User.objects.get(pk=subject.pk)
    changed = [name for name, value in changes.items() if getattr(target, name) != value]
    for name in changed:
        setattr(target, name, changes[name])
    if changed:
        try:
            target.full_clean()
        except ValidationError as error:
            raise ValidationError({"corrections": [f"{k}: {' '.join(v)}" for k, v in error.message_dict.items()]})
        target.save()
    return sorted(changed)


@transaction.atomic
def data_subject_request_close(
    *, organization: Organization, request: DataSubjectRequest, by: User | None, refusal_reason: str = ""
) -> DataSubjectRequest:
    """Tell the person what was done (or why not), by email, and close the request.

    An access request's notice carries the copy (JSON and the readable HTML page). The
    notice is sent after commit; an erasure's address is blanked once it is handed over.
    """
    request = DataSubjectRequest.objects.for_organization(organization).select_for_update().get(pk=request.pk)
    require_same_organization(organization, request=request)
    refusal_reason = (refusal_reason or "").strip()
    if request.status in (DataSubjectRequest.Status.CLOSED, DataSubjectRequest.Status.REFUSED):
        raise ValidationError({"status": _("This request is already closed.")})
    if request.status == DataSubjectRequest.Status.OPEN and not refusal_reason:
        raise ValidationError({"refusal_reason": _("Carry the request out first, or give the reason for refusing it.")})
    if not request.contact_email:
        raise ValidationError({"contact_email": _("There is no address to send the closing notice to.")})
    attachments = []
    if request.kind == DataSubjectRequest.Kind.ACCESS and not refusal_reason:
        export = person_export(organization=organization, subject=subject_of_request(request))
        attachments = [
            ("personal-data.json", export_json(export), "application/json"),
            ("personal-data.html", render_export_html(export=export, language=_notice_language(request)), "text/html"),
        ]
    message = _notice(request, refusal_reason=refusal_reason, attachments=attachments)
    rls.after_commit(lambda: message.send(fail_silently=False))
    request.status = DataSubjectRequest.Status.REFUSED if refusal_reason else DataSubjectRequest.Status.CLOSED
    request.refusal_reason = refusal_reason
    request.closed_at = request.notice_sent_at = timezone.now()
    request.handled_by = request.handled_by or by
    fields = ["status", "refusal_reason", "closed_at", "notice_sent_at", "handled_by", "updated_at"]
    if request.kind == DataSubjectRequest.Kind.ERASURE and not refusal_reason:
        request.contact_email = ""
        fields.append("contact_email")
    request.save(update_fields=fields)
    return request


def _notice_language(request: DataSubjectRequest) -> str:
    if request.participant_id and request.participant.language:
        return request.participant.language
    if request.user_id and request.user.language:
        return request.user.language
    return request.organization.language


def _notice(request: DataSubjectRequest, *, refusal_reason: str, attachments) -> EmailMessage:
    language = _notice_language(request)
    with translation.override(language):
        context = {"request": request, "organization": request.organization, "refusal_reason": refusal_reason}
        subject = _("%(organization)s: your personal data request") % {"organization": request.organization.name}
        body = render_to_string("privacy/notice_email.txt", context)
    message = EmailMessage(subject=subject, body=body, to=[request.contact_email])
    for name, content, mimetype in attachments:
        message.attach(name, content, mimetype)
    return message


def render_export_html(*, export: dict, language: str) -> str:
    with translation.override(language):
        return render_to_string("privacy/export.html", {"export": export, "parts": export_for_display(export)})


# --- erasure ----------------------------------------------------------------------------------


@dataclass
class ErasurePreview:
    subject: privacy.Subject
    label: str
    parts: dict[str, int] = field(default_factory=dict)
    account_kept: bool = False


def person_erase_preview(*, organization: Organization, subject: privacy.Subject) -> ErasurePreview:
    """What an erasure would touch: rows per part of the export (nothing is changed)."""
    export = person_export(organization=organization, subject=subject)
    return ErasurePreview(
        subject=subject,
        label=_label(subject),
        parts={p["title"]: len(p["rows"]) for p in export["parts"] if p["rows"]},
        account_kept=subject.is_user and erasure.user_elsewhere(subject),
    )


def _audit_erased(*, organization: Organization, subject: privacy.Subject, rows: int, request_id, why: str) -> None:
    model = Participant if subject.is_participant else User
    AuditEvent.objects.create(
        organization=organization,
        actor_id=rls.current_user_id(),
        action=AuditEvent.Action.UPDATE,
        content_type=ContentType.objects.get_for_model(model),
        object_id=str(subject.pk),
        object_repr=f"{ERASED} {model._meta.verbose_name} #{subject.pk}"[:200],
        changes={
            "personal_data": [None, "erased"],
            "rows_changed": [None, rows],
            "why": [None, why],
            "request": [None, request_id],
        },
    )


@transaction.atomic
def person_erase(
    *,
    organization: Organization,
    subject: privacy.Subject,
    request: DataSubjectRequest | None = None,
    why: str = "request",
) -> dict:
    """Anonymise the person everywhere in the organization; counts, levels and reports stay.

    Each app's eraser first (identity columns of the person's own rows, free text they
    wrote), then the sweep of every text column of every tenant table (and the admin's
    log) for their names, addresses and phones, then the requests that name them.
    """
    if not subject.identity.names and not subject.identity.emails and not subject.identity.phones:
        raise ValidationError(_("Nothing identifies this person any more: they have been erased already."))
    rows = 0
    per_app = {}
    for key, eraser in privacy.erasers().items():
        count = eraser(subject, ERASED)
        per_app[key] = count
        rows += count
    per_app["core"] = erasure.erase_core(subject, ERASED)
    rows += per_app["core"]
    swept = erasure.sweep_organization(organization=organization, identity=subject.identity, placeholder=ERASED)
    rows += sum(swept.values())
    person = Q(participant_id=subject.pk) if subject.is_participant else Q(user_id=subject.pk)
    others = DataSubjectRequest.objects.for_organization(organization).filter(person)
    if request is not None:
        others = others.exclude(pk=request.pk)
        # Its address stays until the closing notice is sent (data_subject_request_close blanks it).
        DataSubjectRequest.objects.for_organization(organization).filter(pk=request.pk).update(
            person_label=ERASED, corrections={}
        )
    others.update(person_label=ERASED, contact_email="", corrections={})
    _audit_erased(
        organization=organization, subject=subject, rows=rows, request_id=request.pk if request else None, why=why
    )
    return {"erased": True, "rows_changed": rows, "per_app": per_app, "swept": swept}


# --- retention --------------------------------------------------------------------------------


def privacy_settings_for(*, organization: Organization) -> PrivacySettings:
    found = PrivacySettings.objects.for_organization(organization).first()
    return found or PrivacySettings(organization=organization)


@transaction.atomic
def privacy_settings_update(*, organization: Organization, retention_days: int | None) -> PrivacySettings:
    current = privacy_settings_for(organization=organization)
    current.retention_days = retention_days
    current.full_clean()
    current.save()
    return current


@dataclass
class RetentionCandidate:
    participant: Participant
    last_run_ended_on: datetime.date


def retention_candidates(*, organization: Organization, today: datetime.date | None = None) -> list[RetentionCandidate]:
    """Participants whose every run has finished and ended more than the retention period ago."""
    days = privacy_settings_for(organization=organization).retention_days
    if not days:
        return []
    today = today or timezone.localdate()
    cutoff = today - datetime.timedelta(days=days)
    enrollments = Enrollment.objects.for_organization(organization).filter(participant__isnull=False)
    unfinished = enrollments.exclude(run__status=Run.Status.FINISHED).values("participant_id")
    ended = (
        enrollments.exclude(participant_id__in=unfinished)
        .values("participant_id")
        .annotate(last_end=Max("run__ends_on"))
        .filter(last_end__lt=cutoff)
    )
    last_end = {row["participant_id"]: row["last_end"] for row in ended}
    participants = (
        Participant.objects.for_organization(organization)
        .filter(pk__in=list(last_end))
        .exclude(name=ERASED, email="")
        .order_by("name", "id")
    )
    return [RetentionCandidate(participant=p, last_run_ended_on=last_end[p.pk]) for p in participants]


def _audit_retention(
    *, organization: Organization, settings_row: PrivacySettings, dry_run: bool, ids: list[int]
) -> None:
    AuditEvent.objects.create(
        organization=organization,
        actor_id=rls.current_user_id(),
        action=AuditEvent.Action.UPDATE,
        content_type=ContentType.objects.get_for_model(PrivacySettings),
        object_id=str(settings_row.pk or 0),
        object_repr=("retention dry run" if dry_run else "retention erasure")[:200],
        changes={
            "retention_dry_run" if dry_run else "retention_erased": [None, len(ids)],
            "participant_ids": [None, ids],
            "retention_days": [None, settings_row.retention_days],
        },
    )


@transaction.atomic
def retention_apply(*, organization: Organization, dry_run: bool, today: datetime.date | None = None) -> list[int]:
    """Erase (or, in a dry run, list) the participants whose retention period is over. Audited either way."""
    settings_row = privacy_settings_for(organization=organization)
    candidates = retention_candidates(organization=organization, today=today)
    ids = [c.participant.pk for c in candidates]
    if not dry_run:
        for candidate in candidates:
            subject = subject_for(organization=organization, participant=candidate.participant)
            person_erase(organization=organization, subject=subject, why="retention")
    _audit_retention(organization=organization, settings_row=settings_row, dry_run=dry_run, ids=ids)
    return ids

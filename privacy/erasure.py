"""The generic sweep behind every erasure, and core's own part (the account, memberships, the trail).

After each app's eraser (``<app>/privacy.py``) has anonymised what it knows, the sweep
walks every text, char and JSON column of every tenant model of the organization
(``apps.get_models()``: tables other apps add later are covered without a hook) and
replaces each of the person's names, email addresses and phone numbers with the
placeholder, in free text written by others too (a mentor's session notes, a digest in
the outbox, the audit trail's snapshots and labels, a webhook body). It writes with
``QuerySet.update()``, so that no new audit event records the old value.

Columns registered as identity columns (``core.privacy.identity_column``: a participant's
``name``) are left to the app's eraser, which changes the person's own row only: a
namesake in the same organization keeps their name.
"""

from __future__ import annotations

import re

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import privacy
from core.models import AuditEvent, Membership, TenantModel, User
from mentors.models import Mentor
from programs.models import Participant

TEXT_FIELDS = (models.CharField, models.TextField)

# The requests themselves: person_erase blanks them (the open request's address stays until its notice is sent).
privacy.identity_column("privacy.DataSubjectRequest", "person_label")
privacy.identity_column("privacy.DataSubjectRequest", "contact_email")


def _text_columns(model) -> list[models.Field]:
    identity = privacy.identity_columns()
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, (*TEXT_FIELDS, models.JSONField))
        and not f.primary_key
        and not isinstance(f, models.ForeignKey)
        and (model._meta.label, f.name) not in identity
        and f.name not in ("organization",)
    ]


def _pattern(needles: list[str]) -> re.Pattern:
    return re.compile("|".join(re.escape(n) for n in needles), re.IGNORECASE)


def _replace(value, pattern: re.Pattern, placeholder: str):
    if isinstance(value, str):
        return pattern.sub(placeholder, value)
    if isinstance(value, list):
        return [_replace(v, pattern, placeholder) for v in value]
    if isinstance(value, dict):
        return {_replace(k, pattern, placeholder): _replace(v, pattern, placeholder) for k, v in value.items()}
    return value


def _column_match(field: models.Field, needles: list[str]) -> tuple[dict, Q]:
    """An annotation (for JSON, the column as text) and the filter of rows that hold a needle."""
    if isinstance(field, models.JSONField):
        alias = f"_privacy_{field.attname}"
        query = Q()
        for needle in needles:
            query |= Q(**{f"{alias}__icontains": needle})
        return {alias: Cast(field.attname, models.TextField())}, query
    query = Q()
    for needle in needles:
        query |= Q(**{f"{field.attname}__icontains": needle})
    return {}, query


def sweep_queryset(queryset, needles: list[str], placeholder: str) -> int:
    """Replace the needles in every text/JSON column of the rows of ``queryset``; rows changed."""
    if not needles:
        return 0
    pattern = _pattern(needles)
    changed = 0
    model = queryset.model
    for field in _text_columns(model):
        annotation, query = _column_match(field, needles)
        rows = queryset.annotate(**annotation).filter(query).values_list("pk", field.attname)
        for pk, value in rows:
            new = _replace(value, pattern, placeholder)
            if isinstance(field, TEXT_FIELDS) and field.max_length and isinstance(new, str):
                new = new[: field.max_length]
            if new != value:
                changed += queryset.filter(pk=pk).update(**{field.attname: new})
    return changed


def tenant_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if issubclass(m, TenantModel) and not m._meta.proxy]


def sweep_organization(*, organization, identity: privacy.Identity, placeholder: str) -> dict[str, int]:
    """Every tenant table of the organization; returns rows changed per model label."""
    needles = identity.needles()
    counts = {}
    for model in tenant_models():
        count = sweep_queryset(model.objects.for_organization(organization), needles, placeholder)
        if count:
            counts[model._meta.label] = count
    # The admin's own log (not tenant data): entries written by this organization's members.
    members = Membership.objects.for_organization(organization).values_list("user_id", flat=True)
    count = sweep_queryset(LogEntry.objects.filter(user_id__in=list(members)), needles, placeholder)
    if count:
        counts["admin.LogEntry"] = count
    return counts


# --- core's part: the user account, memberships, the audit trail ------------------------------


@privacy.identifiers
def user_identity(subject):
    if not subject.is_user:
        return None
    user = User.objects.filter(pk=subject.pk).first()
    if user is None:
        return None
    return privacy.Identity(names={user.name}, emails={user.email})


IDENTITY_FIELDS = {"name": "names", "email": "emails", "phone": "phones"}


@privacy.identifiers
def past_identity(subject):
    """Names, addresses and phones the person had before a correction: the audit trail still holds them."""
    model = Participant if subject.is_participant else None
    if model is None:
        return None
    identity = privacy.Identity()
    events = AuditEvent.objects.for_organization(subject.organization).filter(
        content_type=ContentType.objects.get_for_model(model), object_id=str(subject.pk)
    )
    for changes in events.values_list("changes", flat=True):
        for name, target in IDENTITY_FIELDS.items():
            for value in (changes or {}).get(name) or []:
                if isinstance(value, str) and value and value != "[erased]":
                    getattr(identity, target).add(value)
    return identity


@privacy.exporter("account", _("Account and memberships"))
def export_account(subject):
    if not subject.is_user:
        return []
    user = User.objects.filter(pk=subject.pk).first()
    if user is None:
        return []
    memberships = Membership.objects.for_organization(subject.organization).filter(user=user)
    return [
        {
            "name": user.name,
            "email": user.email,
            "language": user.language,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "roles": [m.get_role_display() for m in memberships],
            "sign_in_with": sorted(SocialAccount.objects.filter(user=user).values_list("provider", flat=True)),
        }
    ]


@privacy.exporter("audit_events", _("Changes recorded about the person"))
def export_audit_events(subject):
    events = AuditEvent.objects.for_organization(subject.organization)
    if subject.is_participant:
        content_type = ContentType.objects.get_for_model(Participant)
        events = events.filter(content_type=content_type, object_id=str(subject.pk))
    else:
        events = events.filter(actor_id=subject.pk)
    return [
        {"at": e.created_at, "action": e.action, "record": e.object_repr, "changes": e.changes}
        for e in events.order_by("created_at", "id")[:1000]
    ]


def user_elsewhere(subject) -> bool:
    """Whether the user also belongs to another organization (their account then stays as it is)."""
    # Other organizations' rows are behind both walls; one statement each may look.
    return any(
        model.objects.dangerously_all_organizations()
        .filter(user_id=subject.pk)
        .exclude(organization_id=subject.organization.pk)
        .exists()
        for model in (Membership, Mentor)
    )


def erase_core(subject, placeholder: str) -> int:
    """The membership goes; the account is anonymised when the user belongs to no other organization."""
    if not subject.is_user:
        return 0
    changed = Membership.objects.for_organization(subject.organization).filter(user_id=subject.pk).delete()[0]
    if not user_elsewhere(subject):
        changed += User.objects.filter(pk=subject.pk).update(
            name="", email=f"erased-{subject.pk}@invalid.example", is_active=False, password="!"
        )
        # What sign-in keeps about the account: linked Google/Kakao/Naver accounts (their
        # profile data names the person), allauth's address book and the second-step devices.
        changed += SocialAccount.objects.filter(user_id=subject.pk).delete()[0]
        changed += EmailAddress.objects.filter(user_id=subject.pk).delete()[0]
        changed += TOTPDevice.objects.filter(user_id=subject.pk).delete()[0]
        changed += StaticDevice.objects.filter(user_id=subject.pk).delete()[0]
    return changed


def audit_events_of(subject):
    return AuditEvent.objects.for_organization(subject.organization)

"""Writes of the tenancy core."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.models import Membership, Organization, TenantModel, User
from core.tenancy import require_same_organization


@transaction.atomic
def organization_create(
    *, name: str, slug: str, language: str = "ko", time_zone: str = "Asia/Seoul", country: str = "KR"
) -> Organization:
    organization = Organization(name=name, slug=slug, language=language, time_zone=time_zone, country=country)
    organization.full_clean()
    organization.save()
    from core.signals import organization_created

    organization_created.send(sender=Organization, organization=organization)
    return organization


def user_get_or_invite(*, email: str, name: str = "") -> User:
    """The account with this email, or a new one without a usable password.

    A new person sets their password through the reset or invitation flow.
    """
    email = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=None, name=name)
    return user


@transaction.atomic
def membership_grant(*, organization: Organization, user: User, role: int) -> Membership:
    """Give a user a role in an organization (or change the role they have)."""
    membership, _created = Membership.objects.for_organization(organization).update_or_create(
        organization=organization, user=user, defaults={"role": role}
    )
    return membership


def record_archive(*, obj, user: User | None = None) -> None:
    """Archive a row that carries history instead of deleting it."""
    from django.utils import timezone

    if obj.archived_at is None:
        obj.archived_at = timezone.now()
        obj.save(update_fields=["archived_at", "updated_at"])


def record_restore(*, obj, user: User | None = None) -> None:
    if obj.archived_at is not None:
        obj.archived_at = None
        obj.save(update_fields=["archived_at", "updated_at"])


@transaction.atomic
def user_language_set(*, user: User, language: str) -> User:
    """Save the language a person chose (pages of the admin and the portal, their emails)."""
    from django.conf import settings
    from django.core.exceptions import ValidationError

    if language not in dict(settings.LANGUAGES):
        from django.utils.translation import gettext as _

        raise ValidationError({"language": _("Unknown language: %(language)s") % {"language": language}})
    if user.language != language:
        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language
    return user


# --- rows without rules of their own ------------------------------------------------------
# The services of plain configuration rows (a program, a framework's level, a survey's
# statement) share these: validate with the model's rules, keep every related row inside
# the organization, change only the fields the caller may change.


def validated_save(obj, *, update_fields: list[str] | None = None):
    """Save ``obj`` after the model's own validation (``full_clean``): bad input is a field error."""
    obj.full_clean()
    if update_fields is not None:
        obj.save(update_fields=[*update_fields, "updated_at"] if hasattr(obj, "updated_at") else update_fields)
    else:
        obj.save()
    return obj


def _refuse_fields(names, editable: tuple[str, ...]) -> None:
    refused = sorted(set(names) - set(editable))
    if refused:
        raise ValidationError({name: _("This field cannot be changed here.") for name in refused})


def _related_rows(values: dict) -> dict:
    return {name: value for name, value in values.items() if isinstance(value, TenantModel)}


def validated_create(model, *, organization: Organization, editable: tuple[str, ...], **fields):
    """A new ``model`` row of ``organization`` with ``fields`` (only ``editable`` ones), validated."""
    _refuse_fields(fields, editable)
    require_same_organization(organization, **_related_rows(fields))
    return validated_save(model(organization=organization, **fields))


def validated_change(obj, changes: dict, *, editable: tuple[str, ...], organization: Organization | None = None):
    """Set ``changes`` on ``obj`` (a field outside ``editable`` is a field error) and save it validated.

    With ``organization``, ``obj`` and every row in ``changes`` must belong to it.
    """
    _refuse_fields(changes, editable)
    if organization is not None:
        require_same_organization(organization, obj=obj, **_related_rows(changes))
    for name, value in changes.items():
        setattr(obj, name, value)
    return validated_save(obj)

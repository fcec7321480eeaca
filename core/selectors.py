"""Reads of the tenancy core. Every tenant read takes the organization explicitly."""

from __future__ import annotations

from django.db.models import QuerySet

from core.models import Membership, Organization, User


def memberships_for_user(*, user: User) -> QuerySet[Membership]:
    """All of a user's memberships, with their organizations (the user's own rows)."""
    return (
        Membership.objects.dangerously_all_organizations()
        .filter(user=user)
        .select_related("organization")
        .order_by("organization__name")
    )


def membership_active_for_user(*, user: User, organization_id: int | None) -> Membership | None:
    """The membership of the chosen organization, or the user's first one."""
    memberships = list(memberships_for_user(user=user))
    for membership in memberships:
        if membership.organization_id == organization_id:
            return membership
    return memberships[0] if memberships else None


def membership_get(*, user: User, organization: Organization) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.for_organization(organization).filter(user=user).first()


def organization_for_member(*, user: User, slug: str) -> tuple[Organization, Membership | None] | None:
    """The organization with this slug if the user may see it (member or superuser).

    Returns None both when it does not exist and when the user is not a member, so
    that callers answer 404 in both cases and reveal nothing.
    """
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        return None
    membership = membership_get(user=user, organization=organization)
    if membership is None and not user.is_superuser:
        return None
    return organization, membership


def organizations_for_user(*, user: User) -> QuerySet[Organization]:
    if user.is_superuser:
        return Organization.objects.all()
    # Read the user's memberships first (their own rows, across organizations) and then
    # the organizations: as a subquery, the membership read would run under the
    # request's row-level-security context and find only the active organization's.
    organization_ids = list(memberships_for_user(user=user).values_list("organization_id", flat=True))
    return Organization.objects.filter(id__in=organization_ids)


def user_by_email(*, email: str) -> User | None:
    if not email:
        return None
    return User.objects.filter(email=User.objects.normalize_email(email).lower()).first()

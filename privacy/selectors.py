"""Reads of the privacy app. Each takes ``organization=``."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from core.models import Membership, User
from mentors.models import Mentor
from privacy.models import DataSubjectRequest


def data_subject_requests(*, organization) -> QuerySet[DataSubjectRequest]:
    return DataSubjectRequest.objects.for_organization(organization).select_related("participant", "user", "handled_by")


def data_subject_request_get(*, organization, pk) -> DataSubjectRequest | None:
    return data_subject_requests(organization=organization).filter(pk=pk).first()


def data_subject_requests_overdue(*, organization, today=None) -> QuerySet[DataSubjectRequest]:
    """Requests still open past their statutory date (PIPA: ten days)."""
    today = today or timezone.localdate()
    return data_subject_requests(organization=organization).filter(
        status=DataSubjectRequest.Status.OPEN, due_on__lt=today
    )


def organization_users(*, organization):
    """Users the organization knows: its members and its mentors (users are not tenant rows)."""
    members = Membership.objects.for_organization(organization).values("user_id")
    mentors = Mentor.objects.for_organization(organization).values("user_id")
    return User.objects.filter(pk__in=members.union(mentors)).order_by("name", "email")

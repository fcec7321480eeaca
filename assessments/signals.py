"""Receivers: every new organization starts with the default framework."""

from assessments.services import framework_create_default
from core import rls


def give_default_framework(sender, organization, **kwargs) -> None:
    # The new organization's rows are written inside its own row-level-security context.
    with rls.organization_context(organization.pk):
        framework_create_default(organization=organization)

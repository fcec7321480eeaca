"""Receivers: every new organization starts with the default framework."""

from assessments.services import framework_create_default


def give_default_framework(sender, organization, **kwargs) -> None:
    framework_create_default(organization=organization)

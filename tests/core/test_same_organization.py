"""The one same-organization check (core.tenancy.require_same_organization) and its users.

Every service that is handed rows refuses another organization's with a field error named
after the argument: the API answers a 400 with the field, a form shows it on the field.
"""

from __future__ import annotations

import ast
import datetime
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from core.tenancy import require_same_organization
from integrations import services as integration_services
from mentors import services as mentor_services
from programs import services as program_services
from tests.factories.integrations import WebhookSubscriptionFactory, api_key_create
from tests.factories.mentors import DevelopmentGoalFactory
from tests.factories.programs import ProgramFactory, RunFactory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def test_field_errors_are_named_after_the_arguments_and_none_is_skipped(organization, other_organization):
    ours, theirs = ProgramFactory(organization=organization), ProgramFactory(organization=other_organization)
    require_same_organization(organization, program=ours, run=None)
    with pytest.raises(ValidationError) as caught:
        require_same_organization(organization, program=ours, other=theirs, also=RunFactory(program=theirs))
    assert set(caught.value.message_dict) == {"other", "also"}
    assert "does not belong to this organization" in caught.value.message_dict["other"][0]


def test_services_of_several_apps_refuse_another_organizations_rows_the_same_way(organization, other_organization):
    foreign_program = ProgramFactory(organization=other_organization)
    with pytest.raises(ValidationError) as caught:
        program_services.run_create(
            organization=organization,
            program=foreign_program,
            name="Spring",
            starts_on=datetime.date(2027, 3, 2),
            ends_on=datetime.date(2027, 6, 30),
            final_deadline=datetime.date(2027, 6, 25),
        )
    assert "program" in caught.value.message_dict
    foreign_goal = DevelopmentGoalFactory(mentor__organization=other_organization)
    with pytest.raises(ValidationError) as caught:
        mentor_services.goal_update(organization=organization, goal=foreign_goal, title="Mine now")
    assert "goal" in caught.value.message_dict
    foreign_key, _plaintext = api_key_create(other_organization)
    with pytest.raises(ValidationError) as caught:  # was a bare ValueError (a 500 if it ever reached a view)
        integration_services.api_key_revoke(organization=organization, api_key=foreign_key)
    assert "api_key" in caught.value.message_dict
    foreign_key.refresh_from_db()
    assert foreign_key.revoked_at is None
    foreign_subscription = WebhookSubscriptionFactory(organization=other_organization)
    with pytest.raises(ValidationError) as caught:
        integration_services.webhook_subscription_update(
            organization=organization, subscription=foreign_subscription, description="taken"
        )
    assert "subscription" in caught.value.message_dict


def test_no_app_writes_its_own_same_organization_check():
    """No second helper and no inline ``if x.organization_id != organization…: raise``."""
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((".venv/", "tests/", "bench/")) or "/migrations/" in relative:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and "same_organization" in node.name and relative != "core/tenancy.py":
                offenders.append(f"{relative}: def {node.name}")
            if isinstance(node, ast.If) and len(node.body) == 1 and isinstance(node.body[0], ast.Raise):
                test = ast.unparse(node.test)
                if test.endswith(("organization_id != organization.id", "organization_id != organization.pk")):
                    offenders.append(f"{relative}:{node.lineno}: {test}")
    assert offenders == []

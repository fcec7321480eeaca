"""Retention: participants whose runs finished long enough ago are erased by the nightly task; dry run first."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from privacy import services
from privacy.models import PrivacySettings
from privacy.tasks import retention_apply, retention_apply_all
from programs.models import Participant, Run
from tests.factories.privacy import PrivacySettingsFactory
from tests.factories.programs import EnrollmentFactory, ParticipantFactory, ProgramFactory, RunFactory

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def _finished_run(organization, *, ended_days_ago: int, name: str):
    ends = TODAY - ended_days_ago * DAY
    return RunFactory(
        program=ProgramFactory(organization=organization),
        name=name,
        starts_on=ends - 90 * DAY,
        ends_on=ends,
        final_deadline=ends,
        status=Run.Status.FINISHED,
    )


@pytest.fixture
def retention_world(organization, other_organization):
    PrivacySettingsFactory(organization=organization, retention_days=365)
    PrivacySettingsFactory(organization=other_organization, retention_days=365)
    old = _finished_run(organization, ended_days_ago=400, name="2024 가을 기수")
    recent = _finished_run(organization, ended_days_ago=100, name="2025 가을 기수")
    active = RunFactory(program=old.program, name="2026 봄 기수", status=Run.Status.ACTIVE)
    expired = ParticipantFactory(organization=organization, name="오래된 참가자", phone="010-1111-2222")
    EnrollmentFactory(run=old, participant=expired)
    still_enrolled = ParticipantFactory(organization=organization, name="다시 온 참가자")
    EnrollmentFactory(run=old, participant=still_enrolled)
    EnrollmentFactory(run=active, participant=still_enrolled)
    within = ParticipantFactory(organization=organization, name="최근 참가자")
    EnrollmentFactory(run=recent, participant=within)
    theirs = ParticipantFactory(organization=other_organization, name="Their old founder")
    EnrollmentFactory(run=_finished_run(other_organization, ended_days_ago=400, name="Old"), participant=theirs)
    return expired, still_enrolled, within, theirs


def _names(organization):
    return set(Participant.objects.for_organization(organization).values_list("name", flat=True))


def test_only_people_whose_every_run_ended_past_the_period_are_candidates(organization, retention_world):
    expired, *_ = retention_world
    candidates = services.retention_candidates(organization=organization)
    assert [c.participant for c in candidates] == [expired]
    assert candidates[0].last_run_ended_on == TODAY - 400 * DAY


def test_a_dry_run_changes_nothing_and_is_audited(organization, retention_world):
    expired, *_ = retention_world
    before = _names(organization)
    assert services.retention_apply(organization=organization, dry_run=True) == [expired.pk]
    assert _names(organization) == before
    event = AuditEvent.objects.get(organization=organization, object_repr="retention dry run")
    assert event.changes["retention_dry_run"] == [None, 1] and event.changes["participant_ids"] == [None, [expired.pk]]


def test_the_real_run_erases_and_is_audited_and_runs_again_to_nothing(organization, retention_world):
    expired, still_enrolled, within, _theirs = retention_world
    assert services.retention_apply(organization=organization, dry_run=False) == [expired.pk]
    expired.refresh_from_db()
    assert (expired.name, expired.phone) == (services.ERASED, "")
    assert {"다시 온 참가자", "최근 참가자"} <= _names(organization)
    assert AuditEvent.objects.filter(organization=organization, object_repr="retention erasure").count() == 1
    assert AuditEvent.objects.filter(organization=organization, changes__why__1="retention").count() == 1
    assert services.retention_apply(organization=organization, dry_run=False) == []  # idempotent


def test_without_a_period_nothing_expires(organization, retention_world):
    PrivacySettings.objects.filter(organization=organization).update(retention_days=None)
    assert services.retention_candidates(organization=organization) == []


def test_the_periodic_task_runs_per_organization_under_its_own_context(
    organization, other_organization, retention_world
):
    expired, _still, _within, theirs = retention_world
    assert retention_apply_all.delay().get() == 2
    expired.refresh_from_db()
    theirs.refresh_from_db()
    assert expired.name == services.ERASED and theirs.name == services.ERASED


def test_the_task_for_one_organization_touches_no_other(organization, other_organization, retention_world):
    expired, _still, _within, theirs = retention_world
    assert retention_apply.delay(organization_id=other_organization.pk, dry_run=True).get() == [theirs.pk]
    assert retention_apply.delay(organization_id=organization.pk).get() == [expired.pk]
    theirs.refresh_from_db()
    assert theirs.name == "Their old founder"
    assert retention_apply.delay(organization_id=10**9).get() == []


def test_the_command_lists_by_default_and_erases_with_apply(organization, retention_world):
    expired, *_ = retention_world
    out = StringIO()
    call_command("privacy_retention", organization.slug, stdout=out)
    assert "오래된 참가자" in out.getvalue() and "1 would be erased (dry run)" in out.getvalue()
    assert "오래된 참가자" in _names(organization)
    call_command("privacy_retention", organization.slug, "--apply", stdout=StringIO())
    assert "오래된 참가자" not in _names(organization)


def test_the_admin_preview_lists_and_confirm_erases(organization, program_manager, admin_client_for, retention_world):
    client = admin_client_for(program_manager)
    url = reverse("admin:privacy_privacysettings_retention")
    page = client.get(url).content.decode()
    assert "오래된 참가자" in page and "Their old founder" not in page and "최근 참가자" not in page
    client.post(url, {"confirm": "yes"})
    assert "오래된 참가자" not in _names(organization)


def test_retention_is_at_least_thirty_days(organization):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        services.privacy_settings_update(organization=organization, retention_days=7)
    assert "retention_days" in error.value.message_dict

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from assessments.models import Assessment, AssessmentVersion
from assessments.services import ObservationInput, assessment_revise, assessment_submit
from tests.factories.assessments import AssessmentWindowFactory
from tests.factories.programs import CheckInFactory, EnrollmentFactory, HelpRequestFactory


def self_assess(window, enrollment, level, **extra):
    return assessment_submit(
        organization=window.organization,
        window=window,
        subject_enrollment=enrollment,
        assessor_role=Assessment.Role.SELF,
        level=level,
        **extra,
    )


def test_a_participant_assesses_themselves_with_evidence(open_window, enrollment, levels):
    level = levels[2]
    indicator = level.indicators.first()
    check_in = CheckInFactory(enrollment=enrollment)
    help_request = HelpRequestFactory(enrollment=enrollment)

    assessment = self_assess(
        open_window,
        enrollment,
        level,
        notes="Tested the prototype with five shop owners.",
        links=["https://example.com/interviews"],
        observations=[ObservationInput(indicator=indicator, note="Week 2 test")],
        check_ins=[check_in],
        help_requests=[help_request],
    )

    assert assessment.assessor_enrollment == enrollment
    assert assessment.subject_key == f"enrollment:{enrollment.pk}" and assessment.assessor_key == "self"
    assert [o.indicator for o in assessment.observations.all()] == [indicator]
    assert {r.check_in_id or r.help_request_id for r in assessment.references.all()} == {check_in.pk, help_request.pk}
    version = assessment.versions.get()
    assert version.number == 1 and version.level_number == 2
    assert version.snapshot["links"] == ["https://example.com/interviews"]
    assert version.snapshot["check_in_ids"] == [check_in.pk]


def test_submitting_emits_the_assessment_submitted_event(open_window, enrollment, levels, monkeypatch):
    emitted = []
    monkeypatch.setattr("core.events.event_emit", lambda **kwargs: emitted.append(kwargs))
    assessment = self_assess(open_window, enrollment, levels[1])
    assert len(emitted) == 1
    assert emitted[0]["event"] == "assessment.submitted"
    assert emitted[0]["organization"] == open_window.organization
    assert emitted[0]["payload"]["assessment_id"] == assessment.pk
    assert emitted[0]["payload"]["level"] == 1


def test_a_second_self_assessment_in_one_window_is_refused(open_window, enrollment, levels):
    self_assess(open_window, enrollment, levels[1])
    with pytest.raises(ValidationError) as error:
        self_assess(open_window, enrollment, levels[3])
    assert "self-assessment for this subject already exists" in str(error.value)
    assert Assessment.objects.for_organization(open_window.organization).count() == 1


def test_a_level_of_another_framework_is_refused(open_window, enrollment, other_framework):
    foreign_level = other_framework.levels.get(number=2)
    with pytest.raises(ValidationError) as error:
        self_assess(open_window, enrollment, foreign_level)
    assert "level" in error.value.message_dict
    assert not Assessment.objects.for_organization(open_window.organization).exists()


def test_a_level_of_another_framework_of_the_same_organization_is_refused(open_window, enrollment, organization):
    from tests.factories.assessments import LevelFactory

    stray = LevelFactory(framework__organization=organization, number=2)
    with pytest.raises(ValidationError) as error:
        self_assess(open_window, enrollment, stray)
    assert "not part of the framework" in error.value.message_dict["level"][0]


def test_nothing_is_accepted_before_the_window_opens_or_after_it_closes(run, framework, enrollment, levels):
    now = timezone.now()
    later = AssessmentWindowFactory(
        run=run,
        framework=framework,
        kind="post",
        opens_at=now + datetime.timedelta(days=1),
        closes_at=now + datetime.timedelta(days=5),
    )
    with pytest.raises(ValidationError) as error:
        self_assess(later, enrollment, levels[1])
    assert "not accepted yet" in str(error.value)
    with pytest.raises(ValidationError) as error:
        self_assess(later, enrollment, levels[1], now=now + datetime.timedelta(days=6))
    assert "can no longer be added or changed" in str(error.value)
    assert not Assessment.objects.for_organization(run.organization).exists()


def test_an_enrollment_of_another_organization_is_refused(open_window, other_enrollment, levels):
    with pytest.raises(ValidationError) as error:
        self_assess(open_window, other_enrollment, levels[1])
    assert error.value.message_dict["subject_enrollment"] == ["Unknown enrollment."]


def test_a_window_of_another_organization_is_refused(organization, other_window, enrollment, levels):
    with pytest.raises(ValidationError):
        assessment_submit(
            organization=organization,
            window=other_window,
            subject_enrollment=enrollment,
            assessor_role="self",
            level=levels[1],
        )


def test_an_enrollment_of_another_run_is_refused(open_window, organization, levels):
    elsewhere = EnrollmentFactory(run__program__organization=organization, organization=organization)
    with pytest.raises(ValidationError) as error:
        self_assess(open_window, elsewhere, levels[1])
    assert "not part of the window's run" in str(error.value)


def test_a_mentor_assesses_only_assigned_enrollments(open_window, enrollment, run, levels, assessing_mentor):
    assessment = assessment_submit(
        organization=open_window.organization,
        window=open_window,
        subject_enrollment=enrollment,
        assessor_role="mentor",
        assessor_mentor=assessing_mentor,
        level=levels[2],
    )
    assert assessment.assessor_key == f"mentor:{assessing_mentor.pk}"
    not_mine = EnrollmentFactory(run=run)
    with pytest.raises(ValidationError) as error:
        assessment_submit(
            organization=open_window.organization,
            window=open_window,
            subject_enrollment=not_mine,
            assessor_role="mentor",
            assessor_mentor=assessing_mentor,
            level=levels[2],
        )
    assert "not assigned" in str(error.value)


def test_program_manager_assessments_need_a_program_manager(open_window, enrollment, levels, program_manager, viewer):
    assessment_submit(
        organization=open_window.organization,
        window=open_window,
        subject_enrollment=enrollment,
        assessor_role="pm",
        assessor_user=program_manager,
        level=levels[3],
    )
    with pytest.raises(ValidationError) as error:
        assessment_submit(
            organization=open_window.organization,
            window=open_window,
            subject_enrollment=enrollment,
            assessor_role="pm",
            assessor_user=viewer,
            level=levels[3],
        )
    assert "assessor_user" in error.value.message_dict


def test_a_program_manager_of_another_organization_cannot_assess(
    open_window, enrollment, levels, other_program_manager
):
    with pytest.raises(ValidationError):
        assessment_submit(
            organization=open_window.organization,
            window=open_window,
            subject_enrollment=enrollment,
            assessor_role="pm",
            assessor_user=other_program_manager,
            level=levels[3],
        )


def test_peers_come_from_the_same_run_and_are_not_the_subject(open_window, enrollment, run, levels):
    peer = EnrollmentFactory(run=run)
    assessment = assessment_submit(
        organization=open_window.organization,
        window=open_window,
        subject_enrollment=enrollment,
        assessor_role="peer",
        assessor_enrollment=peer,
        level=levels[2],
    )
    assert assessment.assessor_key == f"peer:{peer.pk}"
    with pytest.raises(ValidationError):
        assessment_submit(
            organization=open_window.organization,
            window=open_window,
            subject_enrollment=enrollment,
            assessor_role="peer",
            assessor_enrollment=enrollment,
            level=levels[2],
        )


def test_a_mentor_can_be_the_subject(open_window, levels, program_manager, assessing_mentor):
    assessment = assessment_submit(
        organization=open_window.organization,
        window=open_window,
        subject_mentor=assessing_mentor,
        assessor_role="self",
        level=levels[4],
    )
    assert assessment.subject_key == f"mentor:{assessing_mentor.pk}"
    assert assessment.assessor_mentor == assessing_mentor


def test_bad_evidence_is_refused_with_clear_messages(open_window, enrollment, run, levels, other_framework):
    someone_else = EnrollmentFactory(run=run)
    with pytest.raises(ValidationError) as error:
        self_assess(
            open_window,
            enrollment,
            levels[2],
            links=["not a link"],
            observations=[ObservationInput(indicator=other_framework.levels.get(number=1).indicators.first())],
            check_ins=[CheckInFactory(enrollment=someone_else)],
        )
    messages = error.value.message_dict
    assert set(messages) == {"links", "observations", "check_ins"}
    assert not Assessment.objects.for_organization(open_window.organization).exists()


def test_revising_keeps_the_earlier_version(open_window, enrollment, levels, program_manager):
    assessment = self_assess(open_window, enrollment, levels[1], notes="first")
    revised = assessment_revise(
        organization=open_window.organization,
        assessment=assessment,
        level=levels[2],
        notes="after the interviews",
        recorded_by=program_manager,
    )
    assert revised.version == 2 and revised.level == levels[2]
    versions = list(AssessmentVersion.objects.for_organization(open_window.organization).order_by("number"))
    assert [(v.number, v.level_number, v.snapshot["notes"]) for v in versions] == [
        (1, 1, "first"),
        (2, 2, "after the interviews"),
    ]
    assert versions[1].recorded_by == program_manager


def test_nothing_changes_after_the_window_closes(open_window, enrollment, levels):
    assessment = self_assess(open_window, enrollment, levels[1])
    with pytest.raises(ValidationError) as error:
        assessment_revise(
            organization=open_window.organization,
            assessment=assessment,
            level=levels[4],
            now=open_window.closes_at + datetime.timedelta(seconds=1),
        )
    assert "window" in error.value.message_dict
    assessment.refresh_from_db()
    assert assessment.level == levels[1] and assessment.version == 1
    assert assessment.versions.count() == 1


def test_another_organization_cannot_revise(open_window, enrollment, levels, other_organization):
    assessment = self_assess(open_window, enrollment, levels[1])
    with pytest.raises(ValidationError):
        assessment_revise(organization=other_organization, assessment=assessment, level=levels[2])


def test_a_closed_window_keeps_its_dates(closed_window):
    closed_window.closes_at = timezone.now() + datetime.timedelta(days=3)
    with pytest.raises(ValidationError) as error:
        closed_window.full_clean()
    assert "closes_at" in error.value.message_dict


def test_a_custom_window_needs_a_name(run, framework):
    window = AssessmentWindowFactory.build(run=run, framework=framework, organization=run.organization, kind="custom")
    with pytest.raises(ValidationError) as error:
        window.full_clean()
    assert "name" in error.value.message_dict


def test_a_window_must_close_after_it_opens(run, framework):
    now = timezone.now()
    window = AssessmentWindowFactory.build(
        run=run, framework=framework, organization=run.organization, opens_at=now, closes_at=now
    )
    with pytest.raises(ValidationError):
        window.full_clean()

"""An export imports back unchanged (CSV and XLSX, Korean and English), in the exporter's language and zone."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from programs import imports
from programs.models import Enrollment, Participant, Team, TeamMembership
from tests.factories.programs import (
    EnrollmentFactory,
    MilestoneFactory,
    MilestoneProgressFactory,
    ParticipantFactory,
    RunFactory,
    TeamFactory,
)

UTC = datetime.UTC


@pytest.fixture
def cohort(organization, run):
    alpha = TeamFactory(organization=organization, name="알파팀")
    minjun = ParticipantFactory(
        organization=organization,
        name="김민준",
        email="minjun@startup.kr",
        phone="+82 10-1234-5678",  # the export guards it against Excel formulas: '+82 …
        company="민준랩",
        stage="MVP",
        tags=["핀테크", "B2B"],
        language="ko",
    )
    TeamMembership.objects.create(organization=organization, team=alpha, participant=minjun)
    EnrollmentFactory(
        run=run,
        participant=minjun,
        status="active",
        success_definition="유료 고객 10명",
        commitments="=매주 인터뷰 5건",
        last_contact_at=datetime.datetime(2026, 3, 9, 1, 0, tzinfo=UTC),
    )
    alex = ParticipantFactory(
        organization=organization, name="Alex Kim", email="alex@startup.test", phone="-", language="en"
    )
    EnrollmentFactory(run=run, participant=alex, status="completed", commitments="@weekly demo")
    beta = TeamFactory(organization=organization, name="베타팀")
    EnrollmentFactory(run=run, participant=None, team=beta, status="dropped", success_definition="첫 매출")
    milestone = MilestoneFactory(run=run, name="고객 인터뷰", days_before_deadline=20)
    MilestoneProgressFactory(milestone=milestone, enrollment=Enrollment.objects.get(participant=minjun), status="done")
    return {"alpha": alpha, "beta": beta, "minjun": minjun, "alex": alex}


def _snapshot(organization, run):
    participants = sorted(
        (p.email, p.name, p.phone, p.company, p.stage, tuple(p.tags), p.language)
        for p in Participant.objects.for_organization(organization)
    )
    enrollments = sorted(
        (
            e.participant.email if e.participant else "",
            e.team.name if e.team else "",
            e.status,
            e.success_definition,
            e.commitments,
        )
        for e in Enrollment.objects.for_organization(organization).filter(run=run).select_related("participant", "team")
    )
    teams = sorted(Team.objects.for_organization(organization).values_list("name", flat=True))
    memberships = sorted(
        TeamMembership.objects.for_organization(organization).values_list("team__name", "participant__email")
    )
    return participants, enrollments, teams, memberships


def _export(organization, run, fmt, language):
    with translation.override(language):
        if fmt == "csv":
            return "export.csv", imports.export_csv(organization=organization, run=run)
        return "export.xlsx", imports.export_xlsx(organization=organization, run=run)


def _table(filename, content):
    if filename.endswith(".csv"):
        return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(content)).active
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("exported_in, imported_in", [("ko", "ko"), ("en", "en"), ("ko", "en"), ("en", "ko")])
def test_an_export_imports_back_unchanged(organization, run, cohort, fmt, exported_in, imported_in):
    before = _snapshot(organization, run)
    filename, content = _export(organization, run, fmt, exported_in)

    with translation.override(imported_in):
        preview = imports.import_preview(organization=organization, run=run, filename=filename, content=content)
        assert preview.file_errors == [] and [r.errors for r in preview.rows] == [[], [], []]
        assert [row.action for row in preview.rows] == ["unchanged"] * 3
        report = imports.import_apply(organization=organization, run=run, filename=filename, content=content)
    assert report.applied
    assert _snapshot(organization, run) == before


def test_a_korean_export_speaks_korean_in_the_organizations_time(organization, run, cohort):
    header, *rows = _table(*_export(organization, run, "csv", "ko"))
    assert header[:12] == [
        "이름",
        "이메일",
        "전화번호",
        "회사",
        "단계",
        "태그",
        "언어",
        "팀",
        "상태",
        "성공의 정의",
        "약속",
        "마지막 연락",
    ]
    minjun = next(row for row in rows if row[1] == "minjun@startup.kr")
    assert minjun[2] == "'+82 10-1234-5678"  # still guarded against formulas
    assert minjun[6:9] == ["한국어", "알파팀", "활동 중"]
    assert minjun[11] == "2026-03-09 10:00"  # 01:00 UTC is 10:00 in Seoul
    assert minjun[-1] == "완료"
    team = next(row for row in rows if row[0] == "베타팀")
    assert (team[1], team[7], team[8], team[-1]) == ("", "베타팀", "중도 포기", "시작 전")


def test_an_english_export_keeps_the_imports_names_and_codes(organization, run, cohort):
    header, *rows = _table(*_export(organization, run, "xlsx", "en"))
    assert header[:3] == ["name", "email", "phone"] and header[11] == "last_contact"
    minjun = next(row for row in rows if row[1] == "minjun@startup.kr")
    assert minjun[6:9] == ["ko", "알파팀", "active"] and minjun[-1] == "done"


def test_times_are_in_the_organizations_zone(other_organization):
    run = RunFactory(program__organization=other_organization)
    EnrollmentFactory(run=run, last_contact_at=datetime.datetime(2026, 7, 1, 8, 30, tzinfo=UTC))
    _header, row = _table(*_export(other_organization, run, "csv", "en"))
    assert row[11] == "2026-07-01 09:30"  # British Summer Time


def test_a_team_imported_with_a_participant_shows_as_their_team_in_the_export(organization, run):
    content = "이름,이메일,팀\n김민지,minji@startup.kr,감마팀\n".encode()
    assert imports.import_apply(organization=organization, run=run, filename="a.csv", content=content).applied
    header, row = _table(*_export(organization, run, "csv", "ko"))
    assert (row[1], row[7]) == ("minji@startup.kr", "감마팀")
    # Joining a team is a change the preview reports.
    moved = "이름,이메일,팀\n김민지,minji@startup.kr,델타팀\n".encode()
    preview = imports.import_preview(organization=organization, run=run, filename="a.csv", content=moved)
    assert [r.action for r in preview.rows] == ["update"]


def test_a_team_row_creates_the_team_enrollment_and_another_organizations_team_is_never_used(
    organization, other_organization, run
):
    theirs = TeamFactory(organization=other_organization, name="베타팀")
    content = "name,email,team,status\n베타팀,,베타팀,dropped\n".encode()
    report = imports.import_apply(organization=organization, run=run, filename="t.csv", content=content)
    assert report.applied and [r.action for r in report.rows] == ["create"]
    enrollment = Enrollment.objects.for_organization(organization).get(run=run)
    assert enrollment.participant is None and enrollment.status == "dropped"
    assert enrollment.team.name == "베타팀" and enrollment.team.organization == organization
    assert enrollment.team != theirs
    assert not Enrollment.objects.for_organization(other_organization).exists()


def test_two_rows_for_the_same_team_are_a_row_error(organization, run):
    content = "name,email,team\n베타팀,,베타팀\n베타팀,,베타팀\n".encode()
    report = imports.import_apply(organization=organization, run=run, filename="t.csv", content=content)
    assert not report.applied and "line 2" in report.rows[1].errors[0]
    assert not Team.objects.for_organization(organization).exists()


def test_the_export_takes_the_same_queries_for_3_or_30_enrollments(organization):
    def queries(count):
        run = RunFactory(program__organization=organization)
        team = TeamFactory(organization=organization)
        for _ in range(count):
            enrollment = EnrollmentFactory(run=run)
            TeamMembership.objects.create(organization=organization, team=team, participant=enrollment.participant)
        MilestoneFactory(run=run)
        with CaptureQueriesContext(connection) as captured, translation.override("ko"):
            imports.export_rows(organization=organization, run=run)
        return len(captured)

    assert queries(3) == queries(30)


def test_the_admin_export_is_in_the_pms_language(organization, run, cohort, program_manager, admin_client_for):
    client = admin_client_for(program_manager)
    client.cookies["django_language"] = "ko"
    response = client.get(reverse("admin:programs_run_export", args=[run.pk, "csv"]))
    assert response.content.decode("utf-8-sig").startswith("이름,이메일,")

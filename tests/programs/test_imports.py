"""Importing participants from CSV (UTF-8, BOM, CP949) and XLSX: preview, all-or-nothing, idempotent."""

import io

import pytest

from programs import imports
from programs.models import Enrollment, Participant, Team

HEADER = "이름,이메일,회사,상태,성공의 정의,팀\n"
ROWS = "김민준,MinJun@Startup.kr,민준랩,active,유료 고객 10명,알파팀\n이서연,seoyeon@startup.kr,서연바이오,지원,,\n"


def _xlsx(rows):
    from openpyxl import Workbook

    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "filename, content",
    [
        ("utf8.csv", (HEADER + ROWS).encode("utf-8")),
        ("bom.csv", (HEADER + ROWS).encode("utf-8-sig")),
        ("excel-korean.csv", (HEADER + ROWS).encode("cp949")),
        (
            "book.xlsx",
            _xlsx(
                [
                    ["이름", "이메일", "회사", "상태", "성공의 정의", "팀"],
                    ["김민준", "MinJun@Startup.kr", "민준랩", "active", "유료 고객 10명", "알파팀"],
                    ["이서연", "seoyeon@startup.kr", "서연바이오", "지원", None, None],
                ]
            ),
        ),
    ],
)
def test_every_supported_file_imports_the_same_rows(organization, run, filename, content):
    report = imports.import_apply(organization=organization, run=run, filename=filename, content=content)
    assert report.applied, report.file_errors + [e for r in report.rows for e in r.errors]
    enrollments = Enrollment.objects.for_organization(organization).filter(run=run).select_related("participant")
    found = {(e.participant.email, e.participant.company, e.status) for e in enrollments}
    assert found == {("minjun@startup.kr", "민준랩", "active"), ("seoyeon@startup.kr", "서연바이오", "applied")}
    minjun = Participant.objects.for_organization(organization).get(email="minjun@startup.kr")
    assert Team.objects.for_organization(organization).get(name="알파팀").members.get() == minjun


def test_importing_the_same_file_again_updates_instead_of_duplicating(organization, run):
    content = (HEADER + ROWS).encode("utf-8")
    imports.import_apply(organization=organization, run=run, filename="a.csv", content=content)
    again = imports.import_preview(organization=organization, run=run, filename="a.csv", content=content)
    assert [row.action for row in again.rows] == ["unchanged", "unchanged"]
    changed = content.replace("민준랩".encode(), "민준랩스".encode())
    report = imports.import_apply(organization=organization, run=run, filename="a.csv", content=changed)
    assert [row.action for row in report.rows] == ["update", "unchanged"]
    assert Participant.objects.for_organization(organization).count() == 2
    assert Enrollment.objects.for_organization(organization).count() == 2
    assert Participant.objects.for_organization(organization).get(email="minjun@startup.kr").company == "민준랩스"


def test_a_file_with_an_error_imports_nothing_and_reports_each_row(organization, run):
    content = (
        HEADER + ROWS + ",no-name@startup.kr,,,,\n박지훈,not-an-email,,,,\n최유나,seoyeon@startup.kr,,,,\n"
    ).encode()
    report = imports.import_apply(organization=organization, run=run, filename="bad.csv", content=content)
    assert not report.applied
    errors = {row.line: row.errors for row in report.rows if row.errors}
    assert set(errors) == {4, 5, 6}
    assert "Name is missing." in errors[4]
    assert "not a valid email" in errors[5][0]
    assert "line 3" in errors[6][0]
    assert not Participant.objects.for_organization(organization).exists()
    assert not Enrollment.objects.for_organization(organization).exists()


def test_a_team_name_too_long_is_a_row_error_and_nothing_is_saved(organization, run):
    content = f"name,email,team\nA,a@x.kr,{'팀' * 201}\nB,b@x.kr,알파팀\n".encode()
    report = imports.import_apply(organization=organization, run=run, filename="x.csv", content=content)
    assert not report.applied
    (row,) = [row for row in report.rows if row.errors]
    assert row.line == 2 and row.errors[0].startswith("team:") and "200" in row.errors[0]
    assert not Team.objects.for_organization(organization).exists()
    assert not Participant.objects.for_organization(organization).exists()


def test_an_unknown_status_or_language_is_a_row_error(organization, run):
    content = b"name,email,status,language\nA,a@x.kr,sleeping,ko\nB,b@x.kr,active,fr\n"
    report = imports.import_preview(organization=organization, run=run, filename="x.csv", content=content)
    assert "Unknown status" in report.rows[0].errors[0]
    assert "Unknown language" in report.rows[1].errors[0]


@pytest.mark.parametrize(
    "filename, content, message",
    [
        ("broken.csv", b"name,email\n\xff\xfe\xfa\xfb,\x80\x81@x\n", "encoding"),
        ("cols.csv", b"company,phone\nA,010\n", "Missing columns: name, email"),
        ("empty.csv", b"", "empty"),
        ("fake.xlsx", b"this is not a workbook", "Excel"),
        ("notes.pdf", b"%PDF", ".csv or .xlsx"),
    ],
)
def test_unreadable_files_get_a_clear_message_and_save_nothing(organization, run, filename, content, message):
    report = imports.import_apply(organization=organization, run=run, filename=filename, content=content)
    assert not report.applied
    assert message in report.file_errors[0]
    assert not Participant.objects.for_organization(organization).exists()


def test_participants_of_another_organization_are_never_matched(organization, other_organization, run):
    from tests.factories.programs import ParticipantFactory

    stranger = ParticipantFactory(organization=other_organization, email="minjun@startup.kr", company="남의 회사")
    imports.import_apply(organization=organization, run=run, filename="a.csv", content=(HEADER + ROWS).encode())
    stranger.refresh_from_db()
    assert stranger.company == "남의 회사"
    assert Participant.objects.for_organization(organization).filter(email="minjun@startup.kr").exists()


def test_export_escapes_formulas_and_round_trips(organization, run):
    from tests.factories.programs import EnrollmentFactory

    EnrollmentFactory(run=run, participant__name="=HYPERLINK(1)", participant__email="eve@x.kr")
    text = imports.export_csv(organization=organization, run=run).decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text
    header, rows = imports.export_rows(organization=organization, run=run)
    assert header[:2] == ["name", "email"]


def _many_rows(count, *, prefix="p", team=""):
    lines = [f"참가자 {i},{prefix}{i}@startup.kr,회사 {i},active,첫 매출,{team}" for i in range(count)]
    return (HEADER + "\n".join(lines) + "\n").encode()


def test_the_import_runs_the_same_number_of_queries_for_5_or_50_rows(organization, run):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for count in (5, 50):
        content = _many_rows(count, prefix=f"p{count}-", team=f"팀 {count}")
        with CaptureQueriesContext(connection) as first:
            report = imports.import_apply(organization=organization, run=run, filename="a.csv", content=content)
        assert report.applied
        # Importing the same emails again with changes: updates, not inserts.
        changed = content.replace(b"active", b"completed")
        with CaptureQueriesContext(connection) as again:
            report = imports.import_apply(organization=organization, run=run, filename="a.csv", content=changed)
        assert [row.action for row in report.rows] == ["update"] * count
        counts[count] = (len(first), len(again))
    assert counts[5] == counts[50], counts
    assert Enrollment.objects.for_organization(organization).filter(status="completed").count() == 5 + 50


def test_imported_rows_have_their_audit_trail(organization, run):
    from core.audit import events_for
    from programs.models import TeamMembership

    content = (HEADER + ROWS).encode()
    imports.import_apply(organization=organization, run=run, filename="a.csv", content=content)
    minjun = Participant.objects.for_organization(organization).get(email="minjun@startup.kr")
    enrollment = Enrollment.objects.for_organization(organization).get(participant=minjun)
    team = Team.objects.for_organization(organization).get(name="알파팀")
    membership = TeamMembership.objects.for_organization(organization).get(team=team)
    for obj in (minjun, enrollment, team, membership):
        [event] = events_for(obj)
        assert event.action == "create", obj
    assert events_for(minjun).get().changes["company"] == [None, "민준랩"]
    assert events_for(enrollment).get().changes["status"] == [None, "active"]

    changed = content.replace("민준랩".encode(), "민준랩스".encode()).replace(b"active", b"completed")
    imports.import_apply(organization=organization, run=run, filename="a.csv", content=changed)
    update = events_for(minjun).first()
    assert (update.action, update.changes) == ("update", {"company": ["민준랩", "민준랩스"]})
    update = events_for(enrollment).first()
    assert (update.action, update.changes) == ("update", {"status": ["active", "completed"]})
    # Unchanged rows leave no trail.
    seoyeon = Participant.objects.for_organization(organization).get(email="seoyeon@startup.kr")
    assert events_for(seoyeon).count() == 1


def test_the_import_emits_one_enrollment_event_per_row_to_subscribers(organization, other_organization, run):
    from integrations.models import WebhookDelivery
    from tests.factories.integrations import WebhookSubscriptionFactory

    WebhookSubscriptionFactory(organization=organization, events=["enrollment.created", "enrollment.updated"])
    WebhookSubscriptionFactory(organization=other_organization)
    content = (HEADER + ROWS).encode()
    imports.import_apply(organization=organization, run=run, filename="a.csv", content=content)
    deliveries = WebhookDelivery.objects.for_organization(organization)
    assert sorted(deliveries.values_list("event_type", flat=True)) == ["enrollment.created"] * 2
    imports.import_apply(
        organization=organization, run=run, filename="a.csv", content=content.replace(b"active", b"dropped")
    )
    assert deliveries.filter(event_type="enrollment.updated").count() == 1
    assert not WebhookDelivery.objects.for_organization(other_organization).exists()


def test_field_checks_are_row_errors_as_full_clean_gives_them(organization, run):
    content = f"name,email,phone,language\n{'가' * 201},a@x.kr,{'1' * 41},en\nB,b@x.kr,010,ko\n".encode()
    report = imports.import_apply(organization=organization, run=run, filename="x.csv", content=content)
    assert not report.applied
    (row,) = report.error_rows
    assert row.line == 2
    assert [error.split(":")[0] for error in row.errors] == ["name", "phone"]
    assert "200" in row.errors[0] and "40" in row.errors[1]
    assert not Participant.objects.for_organization(organization).exists()


def test_imported_rows_are_saved_with_every_value(organization, run):
    content = (
        "name,email,phone,company,stage,tags,language,team,status,success_definition,commitments\n"
        '김민준,minjun@startup.kr,010-1234,민준랩,mvp,"b2b, saas",en,,completed,첫 매출,매주 인터뷰\n'
        ",,,,,,,알파팀,applied,팀의 성공,\n"
    ).encode()
    report = imports.import_apply(organization=organization, run=run, filename="x.csv", content=content)
    assert report.applied, [row.errors for row in report.rows]
    person = Participant.objects.for_organization(organization).get()
    assert (person.name, person.email, person.phone, person.company, person.stage, person.tags, person.language) == (
        "김민준",
        "minjun@startup.kr",
        "010-1234",
        "민준랩",
        "mvp",
        ["b2b", "saas"],
        "en",
    )
    assert person.created_at is not None and person.created_at == person.updated_at
    enrollments = Enrollment.objects.for_organization(organization).filter(run=run)
    mine = enrollments.get(participant=person)
    assert (mine.status, mine.success_definition, mine.commitments, mine.needs) == (
        "completed",
        "첫 매출",
        "매주 인터뷰",
        [],
    )
    team = enrollments.get(team__name="알파팀")
    assert (team.participant_id, team.status, team.success_definition) == (None, "applied", "팀의 성공")


def test_the_trail_of_an_import_names_the_actor_and_the_rows(organization, run, program_manager):
    from core import rls
    from core.audit import events_for

    previous = rls.current()
    rls.activate(organization.pk, user=program_manager)  # as a request of the PM would
    try:
        imports.import_apply(organization=organization, run=run, filename="a.csv", content=(HEADER + ROWS).encode())
    finally:
        rls._apply(previous)
    minjun = Participant.objects.for_organization(organization).get(email="minjun@startup.kr")
    enrollment = Enrollment.objects.for_organization(organization).get(participant=minjun)
    for obj in (minjun, enrollment):
        event = events_for(obj).get()
        assert (event.actor, event.object_repr, event.organization_id) == (program_manager, "김민준", organization.pk)
    assert events_for(minjun).get().changes == {
        "organization_id": [None, organization.pk],
        "name": [None, "김민준"],
        "email": [None, "minjun@startup.kr"],
        "company": [None, "민준랩"],
        "language": [None, organization.language],
    }


def test_the_garbage_collector_runs_again_after_an_import(organization, run):
    import gc

    assert gc.isenabled()
    imports.import_apply(organization=organization, run=run, filename="a.csv", content=(HEADER + ROWS).encode())
    assert gc.isenabled()
    imports.import_apply(organization=organization, run=run, filename="bad.csv", content=b"name,email\n,x\n")
    assert gc.isenabled()

"""Import participants and enrollments from CSV or XLSX; export enrollments with progress.

An import is previewed first (a report per row), and is all or nothing: one bad row
and nothing is saved. Participants are recognised by email within the organization,
so importing the same file again updates rows instead of duplicating them.
"""

from __future__ import annotations

import csv
import gc
import io
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connections, router, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_record_bulk
from core.db import insert_columns
from core.events import events_subscribed
from core.tenancy import require_same_organization
from programs import selectors, services
from programs.models import Enrollment, MilestoneProgress, Participant, Team, TeamMembership

MAX_ROWS = 5000
FORMULA_STARTS = ("=", "+", "-", "@")

#: column -> accepted header spellings (lower-cased), English and Korean.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name", "이름", "성명"),
    "email": ("email", "e-mail", "이메일", "메일"),
    "phone": ("phone", "전화", "전화번호", "연락처", "휴대폰"),
    "company": ("company", "회사", "회사명", "기업"),
    "stage": ("stage", "단계", "사업 단계"),
    "tags": ("tags", "태그"),
    "language": ("language", "언어"),
    "team": ("team", "팀"),
    "status": ("status", "상태"),
    "success_definition": ("success_definition", "definition of success", "성공의 정의", "성공 정의"),
    "commitments": ("commitments", "약속", "다짐"),
}
REQUIRED_COLUMNS = ("name", "email")
PARTICIPANT_FIELDS = ("name", "phone", "company", "stage", "tags", "language")
ENROLLMENT_FIELDS = ("status", "success_definition", "commitments")

ACTION_CREATE = "create"
ACTION_UPDATE = "update"
ACTION_UNCHANGED = "unchanged"
ACTION_LABELS = {
    ACTION_CREATE: gettext_lazy("new"),
    ACTION_UPDATE: gettext_lazy("update"),
    ACTION_UNCHANGED: gettext_lazy("unchanged"),
}


class ImportFileError(Exception):
    """The file as a whole cannot be read (format, encoding, columns)."""


@dataclass
class RowReport:
    line: int  # as the PM sees it in a spreadsheet: the header is line 1
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    action: str = ""

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, "")


@dataclass
class ImportReport:
    filename: str
    file_errors: list[str] = field(default_factory=list)
    rows: list[RowReport] = field(default_factory=list)
    applied: bool = False

    @property
    def has_errors(self) -> bool:
        return bool(self.file_errors) or any(row.errors for row in self.rows)

    @property
    def error_rows(self) -> list[RowReport]:
        return [row for row in self.rows if row.errors]

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action and not row.errors)


# --- reading files -----------------------------------------------------------------------


def _decode_csv(content: bytes) -> str:
    # Excel on Korean Windows saves "CSV" as CP949; everything else is UTF-8 (maybe with a BOM).
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_("The file's text encoding cannot be read. Save it as CSV UTF-8 or as an Excel workbook."))


def _read_csv(content: bytes) -> list[list[str]]:
    text = _decode_csv(content)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return [row for row in csv.reader(io.StringIO(text), dialect)]
    except csv.Error as error:
        raise ImportFileError(_("The CSV file is malformed: %(error)s") % {"error": error})


def _read_xlsx(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise ImportFileError(_("The file is not a readable Excel workbook (.xlsx)."))
    sheet = workbook.worksheets[0]
    rows = []
    for values in sheet.iter_rows(values_only=True):
        rows.append(["" if value is None else str(value).strip() for value in values])
    workbook.close()
    return rows


def read_table(filename: str, content: bytes) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Column names and rows (with their spreadsheet line numbers) of a CSV or XLSX file."""
    lower = filename.lower()
    if lower.endswith(".xlsx"):
        raw = _read_xlsx(content)
    elif lower.endswith((".csv", ".txt")):
        raw = _read_csv(content)
    else:
        raise ImportFileError(_("Upload a .csv or .xlsx file."))
    while raw and not any(cell.strip() for cell in raw[0]):
        raw.pop(0)
    if not raw:
        raise ImportFileError(_("The file is empty."))
    aliases = {alias: column for column, spellings in COLUMNS.items() for alias in spellings}
    header = [aliases.get(cell.strip().lower(), "") for cell in raw[0]]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise ImportFileError(
            _("Missing columns: %(columns)s. The first row must name the columns, e.g. name, email.")
            % {"columns": ", ".join(missing)}
        )
    rows = []
    for offset, cells in enumerate(raw[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        values = {
            column: _unguarded(cells[i].strip()) if i < len(cells) else "" for i, column in enumerate(header) if column
        }
        rows.append((offset, values))
    if len(rows) > MAX_ROWS:
        raise ImportFileError(_("Too many rows: at most %(max)d per file.") % {"max": MAX_ROWS})
    return [c for c in header if c], rows


def _unguarded(value: str) -> str:
    """A cell without the ``'`` our export puts before = + - @ (so that Excel runs no formula)."""
    if value[:1] == "'" and value[1:2] in FORMULA_STARTS:
        return value[1:]
    return value


# --- checking rows -----------------------------------------------------------------------


_KOREAN_STATUSES = {
    "지원": "applied",
    "신청": "applied",
    "진행": "active",
    "활동": "active",
    "수료": "completed",
    "중도 포기": "dropped",
    "포기": "dropped",
    "중단": "dropped",
}


def _status_names() -> dict[str, str]:
    """Each status by its value and its label in every language, lower-cased.

    A Korean export says "수료", an English one "completed": both import, whoever imports.
    Built once per file: translating the labels again for every row cost more than the
    rest of the row's checks.
    """
    names: dict[str, str] = {}
    for choice in Enrollment.Status:
        names.setdefault(choice.value, choice.value)
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for choice in Enrollment.Status:
                names.setdefault(str(choice.label).lower(), choice.value)
    return names


def _status(value: str, names: dict[str, str] | None = None) -> str | None:
    if not value:
        return Enrollment.Status.ACTIVE
    found = (names if names is not None else _status_names()).get(value.lower())
    return found if found is not None else _KOREAN_STATUSES.get(value)


def _language(value: str, default: str) -> str | None:
    if not value:
        return default
    return {"ko": "ko", "kr": "ko", "korean": "ko", "한국어": "ko", "en": "en", "english": "en", "영어": "en"}.get(
        value.lower()
    )


def _tags(value: str) -> list[str]:
    return [tag.strip() for tag in value.replace(";", ",").split(",") if tag.strip()]


def _field_checks(model, *, exclude=()) -> list:
    """The fields that ``Model.clean_fields()`` checks, in its order (those with a value to check)."""
    return [
        model_field
        for model_field in model._meta.fields
        if model_field.name not in exclude
        and not model_field.primary_key
        and not getattr(model_field, "auto_now", False)
        and not getattr(model_field, "auto_now_add", False)
    ]


def _field_errors(instance, checks) -> dict[str, list[str]]:
    """``Model.clean_fields()`` for the fields of ``checks``: each value cleaned in place, errors by field.

    Each field's own ``clean()`` (conversion, choices, blank and null, its validators such
    as the maximum length and the email check), as ``full_clean()`` runs it, without
    ``full_clean()``'s per-call walk over every field and the model's ``clean()``
    (which the caller does itself where it matters).
    """
    errors = {}
    values = instance.__dict__
    for model_field in checks:
        raw = values[model_field.attname] if model_field.attname in values else getattr(instance, model_field.attname)
        if model_field.blank and raw in model_field.empty_values:
            continue
        try:
            cleaned = model_field.clean(raw, instance)
        except ValidationError as error:
            errors[model_field.name] = error.messages
            continue
        if cleaned is not raw:
            setattr(instance, model_field.attname, cleaned)
    return errors


@dataclass
class _Planned:
    report: RowReport
    participant: Participant | None  # None: a row for a team enrollment (no email, a team)
    participant_changes: dict
    enrollment: Enrollment | None
    enrollment_changes: dict
    team_name: str

    @property
    def is_team_row(self) -> bool:
        return self.participant is None


def _plan(*, organization, run, filename: str, content: bytes) -> tuple[ImportReport, list[_Planned]]:
    report = ImportReport(filename=filename)
    try:
        _columns, rows = read_table(filename, content)
    except ImportFileError as error:
        report.file_errors.append(str(error))
        return report, []
    emails = [values.get("email", "").strip().lower() for _line, values in rows]
    existing = {
        p.email: p
        for p in Participant.objects.for_organization(organization).filter(email__in=[e for e in emails if e])
    }
    enrollments = {}
    by_id = {participant.pk: participant for participant in existing.values()}
    for enrollment in Enrollment.objects.for_organization(organization).filter(run=run, participant__in=list(by_id)):
        # Share the objects already loaded, so that cleaning and the audit trail read no row again.
        enrollment.run, enrollment.participant = run, by_id[enrollment.participant_id]
        enrollments[enrollment.participant_id] = enrollment
    team_names = {values["team"] for _line, values in rows if values.get("team")}
    teams = {team.name: team for team in Team.objects.for_organization(organization).filter(name__in=team_names)}
    team_enrollments = {}
    for enrollment in Enrollment.objects.for_organization(organization).filter(run=run, team__in=list(teams.values())):
        enrollment.run = run
        team_enrollments[enrollment.team_id] = enrollment
    memberships = set(
        TeamMembership.objects.for_organization(organization)
        .filter(team__in=list(teams.values()), participant__in=list(by_id))
        .values_list("team__name", "participant_id")
    )
    seen: dict[str, int] = {}
    seen_teams: dict[str, int] = {}
    status_names = _status_names()
    participant_checks = _field_checks(Participant, exclude=("organization",))
    planned = []
    for line, values in rows:
        row = RowReport(line=line, values=values)
        report.rows.append(row)
        email = values.get("email", "").strip().lower()
        name = values.get("name", "").strip()
        team_name = values.get("team", "").strip()
        # A row without an email that names a team is the team's own enrollment (as exported).
        team_row = not email and bool(team_name)
        if not name and not team_row:
            row.errors.append(_("Name is missing."))
        if team_row:
            if team_name in seen_teams:
                row.errors.append(_("The same team is already on line %(line)d.") % {"line": seen_teams[team_name]})
            seen_teams.setdefault(team_name, line)
        elif not email:
            row.errors.append(_("Email is missing."))
        else:
            try:
                validate_email(email)
            except ValidationError:
                row.errors.append(_("“%(email)s” is not a valid email address.") % {"email": values.get("email")})
            if email in seen:
                row.errors.append(_("The same email is already on line %(line)d.") % {"line": seen[email]})
            seen.setdefault(email, line)
        status = _status(values.get("status", ""), status_names)
        if status is None:
            row.errors.append(
                _("Unknown status “%(value)s”: use applied, active, completed or dropped.")
                % {"value": values["status"]}
            )
        language = _language(values.get("language", ""), organization.language)
        if language is None:
            row.errors.append(_("Unknown language “%(value)s”: use ko or en.") % {"value": values["language"]})
        if row.errors:
            continue

        wanted_enrollment = {
            "status": status,
            "success_definition": values.get("success_definition", ""),
            "commitments": values.get("commitments", ""),
        }
        try:  # e.g. a name too long for a team: a row error, not a failed save
            if team_name:
                Team(organization=organization, name=team_name).clean_fields(exclude=["organization"])
        except ValidationError as error:
            row.errors.extend(f"team: {' '.join(messages)}" for messages in error.message_dict.values())
            continue
        if team_row:
            team = teams.get(team_name)
            enrollment = team_enrollments.get(team.pk) if team else None
            enrollment_changes = _enrollment_changes(enrollment, wanted_enrollment, values)
            row.action = (
                ACTION_CREATE if enrollment is None else (ACTION_UPDATE if enrollment_changes else ACTION_UNCHANGED)
            )
            planned.append(_Planned(row, None, {}, enrollment, enrollment_changes, team_name))
            continue

        participant = existing.get(email) or Participant(organization=organization, email=email)
        wanted = {
            "name": name,
            "phone": values.get("phone", ""),
            "company": values.get("company", ""),
            "stage": values.get("stage", ""),
            "tags": _tags(values.get("tags", "")),
            "language": language,
        }
        # Empty cells leave what is already known; they never erase it.
        participant_changes = {
            key: value
            for key, value in wanted.items()
            if (value or key == "name") and (participant.pk is None or getattr(participant, key) != value)
        }
        if not values.get("language") and participant.pk:
            participant_changes.pop("language", None)
        for key, value in participant_changes.items():
            setattr(participant, key, value)
        enrollment = enrollments.get(participant.pk) if participant.pk else None
        enrollment_changes = _enrollment_changes(enrollment, wanted_enrollment, values)
        # What full_clean() would say, without its per-row overhead and database checks: the
        # organization is ours, and the unique email is checked above against the
        # participants loaded in one query and the file itself.
        participant.email = participant.email.strip().lower()  # Participant.clean()
        errors = _field_errors(participant, participant_checks)
        if errors:
            row.errors.extend(f"{key}: {' '.join(messages)}" for key, messages in errors.items())
            continue
        new_membership = bool(team_name) and (team_name, participant.pk) not in memberships
        row.action = (
            ACTION_CREATE
            if enrollment is None
            else (ACTION_UPDATE if participant_changes or enrollment_changes or new_membership else ACTION_UNCHANGED)
        )
        planned.append(_Planned(row, participant, participant_changes, enrollment, enrollment_changes, team_name))
    return report, planned


def _enrollment_changes(enrollment: Enrollment | None, wanted: dict, values: dict) -> dict:
    """All wanted fields for a new enrollment; for an existing one, the non-empty cells that differ."""
    if enrollment is None:
        return wanted
    return {
        key: value for key, value in wanted.items() if (value and key in values) and getattr(enrollment, key) != value
    }


@contextmanager
def _without_cyclic_gc():
    """Python's cyclic garbage collector paused while a file's rows are built and written.

    An import keeps tens of thousands of new objects alive (rows, model instances, their
    audit snapshots); each full collection walks all of them and the whole process's
    heap again, which cost about as much as the rest of an import's Python work. They
    form no reference cycles to collect: reference counting frees them as before, and
    the collector resumes (if it was running) when the file is done, also on an error.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def import_preview(*, organization, run, filename: str, content: bytes) -> ImportReport:
    """What importing the file would do, row by row. Saves nothing."""
    with _without_cyclic_gc():
        report, _planned = _plan(organization=organization, run=run, filename=filename, content=content)
    return report


@transaction.atomic
def import_apply(*, organization, run, filename: str, content: bytes) -> ImportReport:
    """Import the file if every row is valid; otherwise save nothing and return the report."""
    require_same_organization(organization, run=run)
    with _without_cyclic_gc():
        report, planned = _plan(organization=organization, run=run, filename=filename, content=content)
        if report.has_errors:
            return report
        _apply(organization=organization, run=run, planned=planned)
    report.applied = True
    return report


#: Rows per UPDATE statement of the import.
BATCH_SIZE = 1000
#: Rows per INSERT of new rows (participants, enrollments, teams, memberships): one statement per file.
INSERT_BATCH_SIZE = MAX_ROWS


#: The columns an import writes of a new participant or enrollment (the others take their defaults).
_PARTICIPANT_COLUMNS = ("organization", "name", "email", "phone", "company", "stage", "tags", "language")
_ENROLLMENT_COLUMNS = (
    "organization",
    "run",
    "participant",
    "team",
    "status",
    "success_definition",
    "commitments",
    "needs",
    "industry",
    "stage",
    "mentor_wish",
)


def _insert_new(model, objects: list, *, fields: tuple[str, ...], now) -> None:
    """INSERT new rows as ``bulk_create`` would (ids, ``created_at`` / ``updated_at`` set on each object).

    On PostgreSQL with :func:`core.db.insert_columns` (arrays bound server-side in binary:
    Django's ``bulk_create`` quoting each value of its ``UNNEST`` arrays into the SQL text
    was the largest single cost of the import). The values are taken as the import set
    them; the ids come back in the order given, as ``bulk_create`` on PostgreSQL relies on too.
    """
    if not objects:
        return
    connection = connections[router.db_for_write(model)]
    for obj in objects:
        obj.created_at = obj.updated_at = now
    if connection.vendor != "postgresql":  # SQLite (the embedded default)
        model._base_manager.bulk_create(objects, batch_size=BATCH_SIZE)
        return
    columns = [model._meta.get_field(name) for name in (*fields, "created_at", "updated_at")]
    values = [[obj.__dict__[column.attname] for obj in objects] for column in columns]
    keys = insert_columns(model, columns, values, batch_size=INSERT_BATCH_SIZE)
    for obj, pk in zip(objects, keys, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


def _changed_fields(objects_and_changes) -> list[str]:
    return sorted({name for _obj, changes in objects_and_changes for name in changes})


def _apply(*, organization, run, planned: list[_Planned]) -> None:
    """Save the planned rows set-based: a constant number of statements per file.

    The rows were validated by :func:`_plan` (each field's checks as ``full_clean`` runs
    them, without database checks, and unique emails checked against the participants
    loaded in one query and within the file). New rows are written by :func:`_insert_new`
    (one INSERT per table), changed ones with ``bulk_update`` in batches of
    :data:`BATCH_SIZE`. What the services would add per row is kept: the field checks of
    new and changed enrollments, the audit trail (:func:`core.audit.audit_record_bulk`,
    as these writes send no signals) and the ``enrollment.created`` /
    ``enrollment.updated`` events, emitted per row only when a subscription wants them.
    """
    now = timezone.now()
    teams = _ensure_teams(organization=organization, planned=planned)
    participants = Participant.objects.for_organization(organization)
    people = [item for item in planned if not item.is_team_row]
    new_participants = [item.participant for item in people if item.participant.pk is None]
    changed_participants = [
        (item.participant, item.participant_changes)
        for item in people
        if item.participant.pk is not None and item.participant_changes
    ]
    _insert_new(Participant, new_participants, fields=_PARTICIPANT_COLUMNS, now=now)
    audit_record_bulk(instances=new_participants, created=True)
    if changed_participants:
        for participant, _changes in changed_participants:
            participant.updated_at = now
        participants.bulk_update(
            [participant for participant, _changes in changed_participants],
            [*_changed_fields(changed_participants), "updated_at"],
            batch_size=BATCH_SIZE,
        )
        audit_record_bulk(instances=[participant for participant, _changes in changed_participants], created=False)

    # Enrollment fields that only the database can check (run, participant, organization)
    # are right by construction: the run was checked above, the participants are ours; a
    # row is for a participant or for a team, never both (Enrollment.clean()), and the
    # import leaves the other fields (needs, industry, ...) at their defaults or as stored.
    # The fields it sets are checked as full_clean() would, and a wrong value fails the
    # import as it did (the plan step mapped the status to a known one already).
    checks = {field.name: field for field in _field_checks(Enrollment) if field.name in ENROLLMENT_FIELDS}
    created_enrollments, changed_enrollments = [], []
    for item in planned:
        if item.enrollment is None:
            whose = {"team": teams[item.team_name]} if item.is_team_row else {"participant": item.participant}
            item.enrollment = Enrollment(organization=organization, run=run, **whose, **item.enrollment_changes)
            created_enrollments.append(item.enrollment)
        elif item.enrollment_changes:
            for name, value in item.enrollment_changes.items():
                setattr(item.enrollment, name, value)
            item.enrollment.updated_at = now
            changed_enrollments.append((item.enrollment, item.enrollment_changes))
        else:
            continue
        errors = _field_errors(item.enrollment, [checks[name] for name in item.enrollment_changes])
        if errors:
            raise ValidationError(errors)
    enrollments = Enrollment.objects.for_organization(organization)
    _insert_new(Enrollment, created_enrollments, fields=_ENROLLMENT_COLUMNS, now=now)
    audit_record_bulk(instances=created_enrollments, created=True)
    if changed_enrollments:
        fields = _changed_fields(changed_enrollments)
        changed = [enrollment for enrollment, _changes in changed_enrollments]
        enrollments.bulk_update(changed, [*fields, "updated_at"], batch_size=BATCH_SIZE)
        audit_record_bulk(instances=changed, created=False, update_fields=fields)

    wanted = events_subscribed(organization=organization, events=("enrollment.created", "enrollment.updated"))
    if wanted:
        created_ids = {id(enrollment) for enrollment in created_enrollments}
        changed_ids = {id(enrollment) for enrollment, _changes in changed_enrollments}
        for item in planned:  # in the file's order, as the rows were saved before
            created = id(item.enrollment) in created_ids
            if (created and "enrollment.created" in wanted) or (
                id(item.enrollment) in changed_ids and "enrollment.updated" in wanted
            ):
                services.enrollment_emit(enrollment=item.enrollment, created=created)

    _apply_memberships(organization=organization, planned=people, teams=teams)


def _ensure_teams(*, organization, planned: list[_Planned]) -> dict[str, Team]:
    """The teams the file names, by name: the organization's, and new ones created here."""
    names = {item.team_name for item in planned if item.team_name}
    if not names:
        return {}
    teams = {team.name: team for team in Team.objects.for_organization(organization).filter(name__in=names)}
    new_teams = [Team(organization=organization, name=name) for name in sorted(names - set(teams))]
    for team in new_teams:
        team.full_clean(exclude=["organization"], validate_unique=False, validate_constraints=False)
    _insert_new(Team, new_teams, fields=("organization", "name"), now=timezone.now())
    audit_record_bulk(instances=new_teams, created=True)
    teams.update({team.name: team for team in new_teams})
    return teams


def _apply_memberships(*, organization, planned: list[_Planned], teams: dict[str, Team]) -> None:
    """Add each participant row's participant to its team (kept when already a member)."""
    if not teams:
        return
    memberships = TeamMembership.objects.for_organization(organization)
    existing = set(memberships.filter(team__in=list(teams.values())).values_list("team_id", "participant_id"))
    new_memberships = []
    for item in planned:
        if not item.team_name:
            continue
        team = teams[item.team_name]
        if (team.pk, item.participant.pk) in existing:
            continue
        existing.add((team.pk, item.participant.pk))
        new_memberships.append(TeamMembership(organization=organization, team=team, participant=item.participant))
    _insert_new(TeamMembership, new_memberships, fields=("organization", "team", "participant"), now=timezone.now())
    audit_record_bulk(instances=new_memberships, created=True)


# --- export ------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "name",
    "email",
    "phone",
    "company",
    "stage",
    "tags",
    "language",
    "team",
    "status",
    "success_definition",
    "commitments",
    "last_contact",
)


#: Korean headers of an export (each one is also a spelling the import reads, see COLUMNS).
KOREAN_HEADERS = {
    "name": "이름",
    "email": "이메일",
    "phone": "전화번호",
    "company": "회사",
    "stage": "단계",
    "tags": "태그",
    "language": "언어",
    "team": "팀",
    "status": "상태",
    "success_definition": "성공의 정의",
    "commitments": "약속",
    "last_contact": "마지막 연락",
}
KOREAN_LANGUAGE_NAMES = {"ko": "한국어", "en": "영어"}


def _in_korean() -> bool:
    """Exports follow the exporting person's language: Korean words, or the import's English names."""
    return (translation.get_language() or "").startswith("ko")


def _choice(choices, value: str, korean: bool) -> str:
    """A status as the reader says it: its label in Korean, its code in English (the import reads both)."""
    return str(choices(value).label) if korean else str(value)


def _teams_of_participants(*, organization, run, participant_ids: list[int]) -> dict[int, str]:
    """The team each participant belongs to, as the export's team column shows it.

    A team enrolled in this run first, then by name: one team per row, the one the
    import would add the participant to again (which then changes nothing).
    """
    enrolled = set(
        Enrollment.objects.for_organization(organization)
        .filter(run=run, team__isnull=False)
        .values_list("team_id", flat=True)
    )
    memberships = (
        TeamMembership.objects.for_organization(organization)
        .filter(participant__in=participant_ids)
        .values_list("participant_id", "team_id", "team__name")
    )
    best: dict[int, tuple] = {}
    for participant_id, team_id, name in memberships:
        key = (team_id not in enrolled, name)
        if participant_id not in best or key < best[participant_id]:
            best[participant_id] = key
    return {participant_id: key[1] for participant_id, key in best.items()}


def export_rows(*, organization, run) -> tuple[list[str], list[list[str]]]:
    """One row per enrollment, then one column per milestone with its progress status.

    The leading columns are the import's, so that an export imports back unchanged: in
    the exporting person's language (Korean headers and status labels, or the English
    names and codes), times in the organization's time zone. A team's enrollment is a
    row without an email whose team is the team itself.
    """
    korean = _in_korean()
    zone = organization.zone
    milestones = list(selectors.milestones_for_run(organization=organization, run=run))
    enrollments = list(selectors.enrollments_for_run(organization=organization, run=run))
    status_of = {
        (p.enrollment_id, p.milestone_id): p
        for p in MilestoneProgress.objects.for_organization(organization).filter(milestone__run=run)
    }
    team_of = _teams_of_participants(
        organization=organization, run=run, participant_ids=[e.participant_id for e in enrollments if e.participant_id]
    )
    columns = [KOREAN_HEADERS[column] for column in EXPORT_COLUMNS] if korean else list(EXPORT_COLUMNS)
    header = [*columns, *(f"D-{m.days_before_deadline} {m.name}" for m in milestones)]
    rows = []
    for enrollment in enrollments:
        person = enrollment.participant
        language = person.language if person else ""
        row = [
            person.name if person else enrollment.team.name,
            person.email if person else "",
            person.phone if person else "",
            person.company if person else "",
            person.stage if person else "",
            ", ".join(person.tags) if person else "",
            KOREAN_LANGUAGE_NAMES.get(language, language) if korean else language,
            team_of.get(person.pk, "") if person else enrollment.team.name,
            _choice(Enrollment.Status, enrollment.status, korean),
            enrollment.success_definition,
            enrollment.commitments,
            f"{enrollment.last_contact_at.astimezone(zone):%Y-%m-%d %H:%M}" if enrollment.last_contact_at else "",
        ]
        for milestone in milestones:
            progress = status_of.get((enrollment.id, milestone.id))
            status = progress.status if progress else MilestoneProgress.Status.NOT_STARTED
            row.append(_choice(MilestoneProgress.Status, status, korean))
        rows.append(row)
    return header, rows


def export_csv(*, organization, run) -> bytes:
    """UTF-8 with a BOM, so that Excel (also Korean Excel) opens Hangul correctly."""
    header, rows = export_rows(organization=organization, run=run)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([[_safe_cell(value) for value in row] for row in rows])
    return buffer.getvalue().encode("utf-8-sig")


def export_xlsx(*, organization, run) -> bytes:
    from openpyxl import Workbook

    header, rows = export_rows(organization=organization, run=run)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "enrollments"
    sheet.append(header)
    for row in rows:
        sheet.append([_safe_cell(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _safe_cell(value: str) -> str:
    # A cell starting with = + - @ would run as a formula in Excel (CSV injection); the
    # import takes the quote off again (_unguarded).
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value

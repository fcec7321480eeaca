"""The API's lean read path (docs/performance.md): few statements per list request, the same at
every page size, the same JSON as the serializers, orjson rendering."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.api.renderers import ApiJSONRenderer
from tests.factories.programs import EnrollmentFactory, RunFactory

pytestmark = pytest.mark.postgres


def _statements(client, url) -> list[str]:
    client.get(url)  # the key's once-a-minute "last used" write happens here
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return [query["sql"] for query in captured.captured_queries]


def _world(organization, other_organization):
    run = RunFactory(program__organization=organization)
    for _ in range(3):
        RunFactory(program=run.program)
    EnrollmentFactory.create_batch(120, run=run)
    EnrollmentFactory.create_batch(5, run=RunFactory(program__organization=other_organization))
    return run


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("endpoint", ["runs", "enrollments"])
def test_a_list_request_makes_two_statements_between_begin_and_commit_at_page_size_1_10_and_100(
    postgres, organization, other_organization, api_key_for, key_client, endpoint
):
    # No outer test transaction: as in production, the request's BEGIN and COMMIT are its own,
    # and between them: the statement that reads the key and sets the RLS context, and the page.
    # No savepoint, no separate set_config.
    _world(organization, other_organization)
    _key, plaintext = api_key_for(organization, scopes=["programs:read"])
    client = key_client(plaintext)
    for page_size in (1, 10, 100):
        url = f"/api/v1/orgs/{organization.slug}/{endpoint}/?page_size={page_size}"
        statements = _statements(client, url)
        assert len(statements) == 4, statements
        begin, key, page, commit = statements
        assert (begin, commit) == ("BEGIN", "COMMIT")
        assert "set_config('app.organization_id'" in key and "app_api_key_by_prefix" in key
        assert "SAVEPOINT" not in " ".join(statements)
        # The next page (a cursor) costs the same: its position is checked without a savepoint.
        next_link = client.get(url).json()["next"]
        if next_link is None:
            assert endpoint == "runs" and page_size > 1  # four runs
            continue
        with CaptureQueriesContext(connection) as captured:
            assert client.get(next_link).status_code == 200
        assert len(captured) == 4, [query["sql"] for query in captured.captured_queries]


def test_the_page_is_read_as_values_and_answers_what_the_serializer_answers(
    postgres, organization, other_organization, api_key_for, key_client, settings
):
    _world(organization, other_organization)
    _key, plaintext = api_key_for(organization, scopes=["programs:read"])
    client = key_client(plaintext)
    for endpoint in ("runs", "enrollments", "participants", "programs"):
        url = f"/api/v1/orgs/{organization.slug}/{endpoint}/?page_size=100"
        settings.API_LEAN_LISTS = True
        with CaptureQueriesContext(connection) as captured:
            lean = client.get(url)
        page_sql = captured.captured_queries[-2]["sql"] if endpoint else ""
        settings.API_LEAN_LISTS = False
        ordinary = client.get(url)
        assert lean.status_code == ordinary.status_code == 200, endpoint
        assert lean.content == ordinary.content, endpoint  # the same bytes, cursor links included
        assert lean.json()["results"], endpoint
        assert '"organization_id"' not in page_sql or endpoint, page_sql
    # Another organization's enrollments are not in the lean page (RLS and the scoped queryset).
    settings.API_LEAN_LISTS = True
    ids = {
        row["id"]
        for row in client.get(f"/api/v1/orgs/{organization.slug}/enrollments/?page_size=100").json()["results"]
    }
    from programs.models import Enrollment

    assert not ids & set(
        Enrollment.objects.dangerously_all_organizations()
        .exclude(organization=organization)
        .values_list("id", flat=True)
    )


def test_a_key_of_another_organization_still_answers_404_and_a_bad_key_401(
    postgres, organization, other_organization, api_key_for, key_client
):
    _world(organization, other_organization)
    _key, other_plaintext = api_key_for(other_organization, scopes=["programs:read"])
    assert key_client(other_plaintext).get(f"/api/v1/orgs/{organization.slug}/enrollments/").status_code == 404
    _key, plaintext = api_key_for(organization, scopes=["programs:read"])
    forged = plaintext[:-4] + ("aaaa" if not plaintext.endswith("aaaa") else "bbbb")
    assert key_client(forged).get(f"/api/v1/orgs/{organization.slug}/enrollments/").status_code == 401
    # An unknown slug with a valid key: 404, and nothing read under another organization's context.
    assert key_client(plaintext).get("/api/v1/orgs/no-such-org/enrollments/").status_code == 404


def test_a_tampered_cursor_is_a_404_not_a_500(postgres, organization, other_organization, api_key_for, key_client):
    import base64

    _world(organization, other_organization)
    _key, plaintext = api_key_for(organization, scopes=["programs:read"])
    client = key_client(plaintext)
    for position in ("abc", str(2**70), "-"):
        cursor = base64.b64encode(f"p={position}".encode()).decode()
        response = client.get(f"/api/v1/orgs/{organization.slug}/enrollments/?cursor={cursor}")
        assert response.status_code == 404, (position, response.content)
    # And the request's transaction is still usable afterwards (no aborted transaction).
    assert client.get(f"/api/v1/orgs/{organization.slug}/enrollments/").status_code == 200


def test_the_renderer_writes_what_drf_wrote():
    import datetime
    import decimal

    from django.utils.translation import gettext_lazy
    from rest_framework.renderers import JSONRenderer

    data = {
        "when": datetime.datetime(2026, 12, 2, 1, 2, 3, tzinfo=datetime.UTC),
        "day": datetime.date(2026, 12, 2),
        "amount": decimal.Decimal("1.50"),
        "text": gettext_lazy("Invalid cursor."),
        "한글": "고객 발견",
        1: [None, True, 2**70],
    }
    assert ApiJSONRenderer().render(data) == JSONRenderer().render(data)
    small = {k: v for k, v in data.items() if k != 1}
    assert ApiJSONRenderer().render(small) == JSONRenderer().render(small)


def _assessments_world(organization, other_organization, framework):
    """Assessments with observations, check-ins and help requests as evidence (in both
    organizations), and one without any evidence."""
    from assessments.services import ObservationInput, assessment_submit, framework_create_default
    from tests.factories.assessments import AssessmentWindowFactory
    from tests.factories.programs import CheckInFactory, HelpRequestFactory

    def fill(organization, framework, count):
        run = RunFactory(program__organization=organization)
        window = AssessmentWindowFactory(run=run, framework=framework, kind="pre")
        levels = list(framework.levels.order_by("number"))
        indicators = [indicator for level in levels for indicator in level.indicators.all()]
        for number in range(count):
            enrollment = EnrollmentFactory(run=run)
            evidence = {}
            if number % 3:
                evidence = {
                    "observations": [
                        ObservationInput(indicator=i, note=f'<본 것 {n}> & "q"')
                        for n, i in enumerate(indicators[number % 4 :][:3])
                    ],
                    "check_ins": [CheckInFactory(enrollment=enrollment) for _ in range(number % 3)],
                    "help_requests": [HelpRequestFactory(enrollment=enrollment)],
                    "links": ["https://example.com/evidence"],
                    "notes": "고객 인터뷰 5건",
                }
            assessment_submit(
                organization=organization,
                window=window,
                subject_enrollment=enrollment,
                assessor_role="self",
                level=levels[number % len(levels)],
                **evidence,
            )

    fill(organization, framework, 12)
    fill(other_organization, framework_create_default(organization=other_organization), 4)


@pytest.mark.django_db(transaction=True)
def test_assessments_are_read_lean_with_their_evidence_in_the_page_statement(
    postgres, organization, other_organization, framework, api_key_for, key_client, settings
):
    # Observations, check-ins and help requests (to-many) come with the page in one statement
    # (core.api.lean.json_objects / id_array), and the bytes are those of the serializer.
    _assessments_world(organization, other_organization, framework)
    _key, plaintext = api_key_for(organization, scopes=["assessments:read"])
    client = key_client(plaintext)
    for page_size in (1, 5, 100):
        url = f"/api/v1/orgs/{organization.slug}/assessments/?page_size={page_size}"
        settings.API_LEAN_LISTS = True
        statements = _statements(client, url)
        assert len(statements) == 4, statements
        lean = client.get(url)
        settings.API_LEAN_LISTS = False
        ordinary = client.get(url)
        assert lean.content == ordinary.content
    results = lean.json()["results"]
    assert len(results) == 12  # not the other organization's four
    assert any(row["observations"] and row["check_ins"] and row["help_requests"] for row in results)
    assert any(not row["observations"] for row in results)
    from assessments.models import Observation

    own = set(Observation.objects.for_organization(organization).values_list("note", flat=True))
    assert {o["note"] for row in results for o in row["observations"]} <= own


@pytest.mark.django_db(transaction=True)
def test_a_detail_request_is_read_lean_and_answers_what_the_serializer_answers(
    postgres, organization, other_organization, framework, api_key_for, key_client, settings
):
    # GET <endpoint>/<id>/ on DRF's own retrieve: one values() row, the same bytes, four statements;
    # another organization's id and an unknown id are 404 on both paths.
    from assessments.models import Assessment
    from programs.models import Enrollment, Participant, Program, Run

    _world(organization, other_organization)
    _assessments_world(organization, other_organization, framework)
    _key, plaintext = api_key_for(organization, scopes=["programs:read", "assessments:read"])
    client = key_client(plaintext)
    base = f"/api/v1/orgs/{organization.slug}"
    for endpoint, model in (
        ("runs", Run),
        ("enrollments", Enrollment),
        ("participants", Participant),
        ("programs", Program),
        ("assessments", Assessment),
    ):
        own = model.objects.for_organization(organization).order_by("id").values_list("id", flat=True)
        other = model.objects.for_organization(other_organization).values_list("id", flat=True).first()
        for pk in (own[0], own[len(own) - 1]):
            settings.API_LEAN_LISTS = True
            statements = _statements(client, f"{base}/{endpoint}/{pk}/")
            assert len(statements) == 4, (endpoint, statements)
            lean = client.get(f"{base}/{endpoint}/{pk}/")
            settings.API_LEAN_LISTS = False
            ordinary = client.get(f"{base}/{endpoint}/{pk}/")
            assert lean.status_code == ordinary.status_code == 200, endpoint
            assert lean.content == ordinary.content, endpoint
        for lean_on in (True, False):
            settings.API_LEAN_LISTS = lean_on
            assert client.get(f"{base}/{endpoint}/{other}/").status_code == 404, endpoint
            assert client.get(f"{base}/{endpoint}/999999999/").status_code == 404, endpoint


def test_the_plain_converters_answer_what_the_fields_answer():
    # The lean plan replaces some fields' to_representation by a builtin (core.api.lean);
    # for the values such a column holds, the answer is the field's own.
    import datetime

    from rest_framework import serializers

    from core.api.lean import _converter
    from core.api.serializers import StrictCharField
    from programs.models import Enrollment, Run

    cases = [
        (serializers.CharField(), Run._meta.get_field("name"), ["", "이름 <b>&", "x" * 300]),
        (serializers.IntegerField(), Run._meta.get_field("checkin_cadence_days"), [0, 7, 2**40]),
        (
            serializers.DateField(),
            Run._meta.get_field("starts_on"),
            [datetime.date(2026, 12, 4), datetime.date(1, 1, 1)],
        ),
        (
            serializers.ChoiceField(choices=Enrollment.Status.choices),
            Enrollment._meta.get_field("status"),
            [*Enrollment.Status.values, "", "not-a-choice"],
        ),
        (serializers.BooleanField(), Run._meta.get_field("skip_non_working_days"), [True, False]),
        (StrictCharField(), Run._meta.get_field("name"), ["", "이름"]),  # a subclass that keeps the conversion
    ]
    for field, model_field, values in cases:
        convert = _converter(field, model_field)
        assert convert is not field.to_representation, field  # a plain one was chosen
        for value in values:
            answer = value if convert is None else convert(value)
            assert answer == field.to_representation(value) and type(answer) is type(field.to_representation(value))
    # Choices that answer another value than the stored one keep the field's own conversion.
    mapped = serializers.ChoiceField(choices=[(1, "one"), (2, "two")])
    assert _converter(mapped, Run._meta.get_field("checkin_cadence_days")) == mapped.to_representation
    # A date format other than ISO 8601 keeps the field's own conversion.
    formatted = serializers.DateField(format="%d.%m.%Y")
    assert _converter(formatted, Run._meta.get_field("starts_on")) == formatted.to_representation

    class Shouting(serializers.CharField):
        def to_representation(self, value):
            return str(value).upper()

    shouting = Shouting()
    assert _converter(shouting, Run._meta.get_field("name")) == shouting.to_representation


@pytest.mark.parametrize("zone", ["Asia/Seoul", "UTC", "America/St_Johns"])
def test_datetimes_are_written_as_the_serializer_writes_them_in_every_zone(
    postgres, organization, other_organization, api_key_for, key_client, settings, zone
):
    # The lean path hands datetimes to orjson (core.api.renderers NATIVE_DATETIMES) from the
    # instant on which the zone's offsets are whole minutes; before it (local mean time,
    # Seoul +08:27:52 until 1908) the field's own answer (UTC). Bytes equal either way.
    import datetime

    from programs.models import Enrollment

    settings.TIME_ZONE = zone
    run = _world(organization, other_organization)
    instants = [
        datetime.datetime(1900, 1, 1, 12, 0, tzinfo=datetime.UTC),  # LMT in Seoul and St. John's
        datetime.datetime(1908, 3, 31, 15, 30, tzinfo=datetime.UTC),
        datetime.datetime(1908, 4, 1, 0, 0, tzinfo=datetime.UTC),
        datetime.datetime(2026, 12, 4, 9, 0, tzinfo=datetime.UTC),  # no microseconds
        datetime.datetime(2026, 7, 1, 23, 59, 59, 999999, tzinfo=datetime.UTC),  # daylight time in St. John's
    ]
    ids = list(Enrollment.objects.for_organization(organization).filter(run=run).order_by("-id")[: len(instants)])
    for enrollment, instant in zip(ids, instants, strict=True):
        Enrollment.objects.for_organization(organization).filter(pk=enrollment.pk).update(last_contact_at=instant)
    _key, plaintext = api_key_for(organization, scopes=["programs:read"])
    client = key_client(plaintext)
    for url in (
        f"/api/v1/orgs/{organization.slug}/enrollments/?page_size=10",
        f"/api/v1/orgs/{organization.slug}/enrollments/{ids[0].pk}/",
    ):
        settings.API_LEAN_LISTS = True
        lean = client.get(url)
        settings.API_LEAN_LISTS = False
        ordinary = client.get(url)
        assert lean.status_code == ordinary.status_code == 200
        assert lean.content == ordinary.content, url
    base = f"/api/v1/orgs/{organization.slug}/enrollments"
    written = [client.get(f"{base}/{enrollment.pk}/").json()["last_contact_at"] for enrollment in ids]
    # Local mean time in Seoul (+08:27:52) and St. John's (-03:30:52, until 1935) is answered in UTC.
    assert written[0] == "1900-01-01T12:00:00Z"
    assert written[3] == {"UTC": "2026-12-04T09:00:00Z", "Asia/Seoul": "2026-12-04T18:00:00+09:00"}.get(
        zone, "2026-12-04T05:30:00-03:30"
    )
    assert written[4].endswith(".999999" + {"UTC": "Z", "Asia/Seoul": "+09:00"}.get(zone, "-02:30"))


def test_the_zone_s_whole_minute_offsets_start_after_local_mean_time():
    import datetime
    import zoneinfo

    from core.api.lean import whole_minute_offsets_from

    seoul = whole_minute_offsets_from(zoneinfo.ZoneInfo("Asia/Seoul"))
    # Korea's local mean time (+08:27:52) ended on 1 April 1908.
    assert (
        datetime.datetime(1908, 3, 31, tzinfo=datetime.UTC)
        < seoul
        < datetime.datetime(1908, 4, 15, tzinfo=datetime.UTC)
    )
    assert whole_minute_offsets_from(datetime.UTC) == datetime.datetime(1850, 1, 1, tzinfo=datetime.UTC)

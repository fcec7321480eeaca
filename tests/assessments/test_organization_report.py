"""The organization-wide cohort report agrees with the per-run reports, in a constant number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.reports import cohort_report, organization_report, organization_report_csv
from tests.assessments.test_reports import Cohort, _build_cohort
from tests.factories.programs import ProgramsMentorFactory, RunFactory


def _second_cohort(cohort, framework):
    run = RunFactory(program__organization=cohort.organization, organization=cohort.organization)
    return Cohort(run, framework, cohort.pm)


@pytest.fixture
def two_runs(run, framework, program_manager):
    """Two runs sharing a mentor; figures chosen so that the combined ones are easy to check by hand."""
    cohort = Cohort(run, framework, program_manager)
    second = _second_cohort(cohort, framework)
    mentor = ProgramsMentorFactory(organization=cohort.organization)
    # run 1: 1 -> 3 (self 2 -> 3), 2 -> 2, 3 -> 2 ; one only rated before
    for before, after, self_before in [(1, 3, 2), (2, 2, None), (3, 2, 5)]:
        enrollment = cohort.enroll(mentor=mentor)
        cohort.rate(cohort.pre, enrollment, "pm", before)
        cohort.rate(cohort.post, enrollment, "pm", after)
        if self_before is not None:
            cohort.rate(cohort.pre, enrollment, "self", self_before)
    cohort.rate(cohort.pre, cohort.enroll(), "pm", 4)
    # run 2: 0 -> 2, 1 -> 3
    for before, after in [(0, 2), (1, 3)]:
        enrollment = second.enroll(mentor=mentor)
        second.rate(second.pre, enrollment, "pm", before)
        second.rate(second.post, enrollment, "pm", after)
    return cohort, second


def test_growth_gap_and_distribution_agree_with_the_per_run_reports(two_runs):
    first, second = two_runs
    organization = first.organization
    per_run = [cohort_report(organization=organization, run=c.run) for c in (first, second)]

    report = organization_report(organization=organization)

    assert report.growth.subjects == sum(r.growth.subjects for r in per_run) == 5
    assert report.growth.moved_up == sum(r.growth.moved_up for r in per_run) == 3
    assert report.growth.moved_down == sum(r.growth.moved_down for r in per_run) == 1
    assert report.growth.mean_before == round((1 + 2 + 3 + 0 + 1) / 5, 2)
    assert report.growth.mean_after == round((3 + 2 + 2 + 2 + 3) / 5, 2)
    assert report.growth.mean_delta == 1.0
    assert report.growth.moved_up_share == 0.6

    by_run = {row.run.pk: row for row in report.runs}
    for cohort, single in zip((first, second), per_run, strict=True):
        row = by_run[cohort.run.pk]
        assert (row.growth.subjects, row.growth.mean_before, row.growth.mean_after, row.growth.moved_up_share) == (
            single.growth.subjects,
            single.growth.mean_before,
            single.growth.mean_after,
            single.growth.moved_up_share,
        )
    assert by_run[first.run.pk].assessed == 4 and by_run[second.run.pk].assessed == 2

    pre = next(k for k in report.kinds if k.kind == "pre")
    counts = {bar.number: bar.consensus for bar in pre.distribution}
    for single in per_run:
        for bar in next(s for s in single.windows if s.window.kind == "pre").distribution:
            counts[bar.number] -= bar.consensus
    assert set(counts.values()) == {0}
    assert pre.subjects_rated == 6 and pre.subjects_self == 2
    assert pre.mean_gap == round(((2 - 1) + (5 - 3)) / 2, 2)
    assert (pre.overestimate, pre.underestimate, pre.aligned) == (2, 0, 0)
    assert [k.kind for k in report.kinds] == ["pre", "post"]

    [mentor] = report.mentors
    assert (mentor.mentees, mentor.with_growth, mentor.moved_up) == (5, 5, 3)
    assert mentor.mean_delta == 1.0


def test_other_kinds_can_be_compared_and_bad_kinds_are_refused(two_runs):
    report = organization_report(organization=two_runs[0].organization, before_kind="post", after_kind="pre")
    assert report.growth.subjects == 5 and report.growth.mean_delta == -1.0
    with pytest.raises(ValueError):
        organization_report(organization=two_runs[0].organization, before_kind="pre", after_kind="pre")


def test_another_organizations_ratings_never_count(two_runs, other_window, other_organization):
    report = organization_report(organization=other_organization)
    assert report.growth.subjects == 0 and report.runs[0].assessed == 0 and report.mentors == []


def test_the_csv_has_every_section(two_runs):
    content = organization_report_csv(organization_report(organization=two_runs[0].organization))
    assert "Levels per window kind" in content and "Perception gap per window kind" in content
    assert f"{two_runs[1].run.pk},{two_runs[1].run.name},2,2,0.5,2.5,2.0,1.0,0" in content


def _queries(organization):
    with CaptureQueriesContext(connection) as queries:
        report = organization_report(organization=organization)
    return len(queries), report


def test_the_same_number_of_queries_for_3_and_30_enrollments_and_for_1_and_3_runs(
    program_manager, framework, other_organization, other_program_manager
):
    from assessments.services import framework_create_default

    _build_cohort(other_program_manager, framework_create_default(organization=other_organization), 3)
    small, small_report = _queries(other_organization)
    for _index in range(3):
        _build_cohort(program_manager, framework, 10)
    large, large_report = _queries(framework.organization)
    assert len(small_report.runs) == 1 and small_report.growth.subjects == 3
    assert len(large_report.runs) == 3 and large_report.growth.subjects == 30
    assert small == large == 3  # windows with their runs, levels, one statement for every figure


# --- Admin and API ------------------------------------------------------------------------

BASE = "/api/v1/orgs/hanbit"
OTHER = "/api/v1/orgs/other"


def _admin_url(organization, csv=False):
    return f"/admin/assessments/assessmentwindow/organization-report/{organization.pk}/" + ("csv/" if csv else "")


def test_the_admin_page_shows_every_run_and_links_from_the_window_list(two_runs, program_manager, admin_client_for):
    first, second = two_runs
    client = admin_client_for(program_manager)
    changelist = client.get("/admin/assessments/assessmentwindow/").content.decode()
    assert _admin_url(first.organization) in changelist

    response = client.get(_admin_url(first.organization))
    body = response.content.decode()
    assert response.status_code == 200
    assert first.run.name in body and second.run.name in body
    assert "+1.00" in body  # the mean change across both runs
    assert f"/admin/assessments/assessmentwindow/report/{first.run.pk}/" in body

    csv_response = client.get(_admin_url(first.organization, csv=True) + "?before=pre&after=post")
    assert csv_response["Content-Type"].startswith("text/csv")
    assert "Perception gap per window kind" in csv_response.content.decode("utf-8-sig")


def test_the_admin_page_explains_bad_kinds_instead_of_failing(two_runs, program_manager, admin_client_for):
    client = admin_client_for(program_manager)
    response = client.get(_admin_url(two_runs[0].organization) + "?before=post&after=post")
    assert response.status_code == 200 and "Choose two different window kinds" in response.content.decode()
    response = client.get(_admin_url(two_runs[0].organization) + "?before=nonsense")
    assert response.status_code == 200 and "Unknown window kind: nonsense" in response.content.decode()


def test_another_organizations_report_is_404_in_the_admin(
    two_runs, other_organization, program_manager, other_program_manager, admin_client_for
):
    organization = two_runs[0].organization
    for client, url in [
        (admin_client_for(other_program_manager), _admin_url(organization)),
        (admin_client_for(other_program_manager), _admin_url(organization, csv=True)),
        (admin_client_for(program_manager), _admin_url(other_organization)),
        (admin_client_for(program_manager), _admin_url(other_organization, csv=True)),
    ]:
        assert client.get(url).status_code == 404, url


def test_the_admin_page_makes_the_same_number_of_queries_for_1_and_3_runs(program_manager, framework, admin_client_for):
    client = admin_client_for(program_manager)
    url = _admin_url(framework.organization)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    _build_cohort(program_manager, framework, 3)
    one_run = count()
    _build_cohort(program_manager, framework, 10)
    _build_cohort(program_manager, framework, 10)
    assert count() == one_run


def test_the_api_report_and_csv(two_runs, program_manager, api_client_for):
    client = api_client_for(program_manager)
    report = client.get(f"{BASE}/assessment-reports/organization/").json()
    assert report["growth"]["subjects"] == 5 and report["growth"]["mean_delta"] == 1.0
    assert [k["kind"] for k in report["kinds"]] == ["pre", "post"]
    assert {r["run"]: r["assessed"] for r in report["runs"]} == {two_runs[0].run.pk: 4, two_runs[1].run.pk: 2}
    reverse = client.get(f"{BASE}/assessment-reports/organization/?before_kind=post&after_kind=pre").json()
    assert reverse["growth"]["mean_delta"] == -1.0

    csv_response = client.get(f"{BASE}/assessment-reports/organization/csv/")
    assert csv_response.status_code == 200 and "Levels per window kind" in csv_response.content.decode("utf-8-sig")


def test_the_api_refuses_bad_kinds_with_a_field_error(two_runs, program_manager, api_client_for):
    client = api_client_for(program_manager)
    response = client.get(f"{BASE}/assessment-reports/organization/?before_kind=pre&after_kind=pre")
    assert response.status_code == 400 and "after_kind" in str(response.json())
    response = client.get(f"{BASE}/assessment-reports/organization/?before_kind=nonsense")
    assert response.status_code == 400 and "before_kind" in str(response.json())


def test_another_organizations_report_is_404_in_the_api(
    two_runs, other_organization, program_manager, other_program_manager, api_client_for
):
    for client, prefix in [(api_client_for(other_program_manager), BASE), (api_client_for(program_manager), OTHER)]:
        for path in ("assessment-reports/organization/", "assessment-reports/organization/csv/"):
            assert client.get(f"{prefix}/{path}").status_code == 404, (prefix, path)


def test_the_api_endpoint_is_in_the_openapi_schema():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    assert "/api/v1/orgs/{org_slug}/assessment-reports/organization/" in paths
    assert "/api/v1/orgs/{org_slug}/assessment-reports/organization/csv/" in paths

"""The matching API: thin, through the services; another organization's rows answer 404."""

import pytest

from matching.models import ProposedPair
from programs.models import MentorAssignment
from tests.factories.matching import ConflictFactory, PreferenceFactory, ProposalFactory
from tests.factories.programs import EnrollmentFactory, ProgramsMentorFactory

pytestmark = pytest.mark.django_db


def _base(organization):
    return f"/api/v1/orgs/{organization.slug}"


@pytest.fixture
def cohort(organization, run):
    mentor = ProgramsMentorFactory(organization=organization, industries=["b2b_saas"], capacity=2)
    founders = [EnrollmentFactory(run=run, industry="b2b_saas") for _ in range(2)]
    return mentor, founders


def test_a_program_manager_proposes_reads_and_accepts(organization, run, program_manager, api_client_for, cohort):
    mentor, founders = cohort
    client = api_client_for(program_manager)

    created = client.post(f"{_base(organization)}/matching-proposals/", {"run": run.pk}, HTTP_ACCEPT_LANGUAGE="en")
    assert created.status_code == 201, created.content
    body = created.json()
    assert {p["enrollment"] for p in body["pairs"]} == {f.pk for f in founders}
    assert all(p["mentor"] == mentor.pk and p["score"] == 2 for p in body["pairs"])
    assert body["pairs"][0]["reasons"][0] == {"code": "industry", "text": "both: B2B SaaS"}

    listed = client.get(f"{_base(organization)}/matching-proposals/?run={run.pk}")
    assert [p["id"] for p in listed.json()["results"]] == [body["id"]]

    first = body["pairs"][0]["id"]
    accepted = client.post(f"{_base(organization)}/matching-proposals/{body['id']}/accept/", {"pairs": [first]})
    assert accepted.status_code == 200, accepted.content
    assert [p["accepted_at"] is not None for p in accepted.json()["pairs"]] == [True, False]
    accepted = client.post(f"{_base(organization)}/matching-proposals/{body['id']}/accept/", {})
    assert all(p["assignment"] for p in accepted.json()["pairs"])
    assert MentorAssignment.objects.for_organization(organization).filter(run=run, mentor=mentor).count() == 2


def test_bad_input_is_a_field_error(organization, run, program_manager, api_client_for, other_run, cohort):
    client = api_client_for(program_manager)
    response = client.post(f"{_base(organization)}/matching-proposals/", {})
    assert response.status_code == 400 and "run" in str(response.json())
    response = client.post(f"{_base(organization)}/matching-proposals/", {"run": other_run.pk})
    assert response.status_code == 400 and "run" in str(response.json())
    proposal = client.post(f"{_base(organization)}/matching-proposals/", {"run": run.pk}).json()
    response = client.post(f"{_base(organization)}/matching-proposals/{proposal['id']}/accept/", {"pairs": [987654]})
    assert response.status_code == 400 and "pairs" in str(response.json())
    response = client.post(f"{_base(organization)}/matching-proposals/{proposal['id']}/accept/", {"pairs": "all"})
    assert response.status_code == 400
    assert not ProposedPair.objects.for_organization(organization).filter(accepted_at__isnull=False).exists()


def test_a_viewer_reads_but_does_not_propose(organization, run, viewer, api_client_for):
    client = api_client_for(viewer)
    assert client.get(f"{_base(organization)}/matching-proposals/").status_code == 200
    assert client.post(f"{_base(organization)}/matching-proposals/", {"run": run.pk}).status_code == 403


def test_another_organizations_proposal_conflict_and_preference_answer_404(
    organization, other_organization, program_manager, api_client_for, other_run
):
    client = api_client_for(program_manager)
    proposal = ProposalFactory(run=other_run)
    conflict = ConflictFactory(enrollment=EnrollmentFactory(run=other_run))
    preference = PreferenceFactory(enrollment=EnrollmentFactory(run=other_run))
    base = _base(organization)
    assert client.get(f"{base}/matching-proposals/{proposal.pk}/").status_code == 404
    assert client.post(f"{base}/matching-proposals/{proposal.pk}/accept/", {}).status_code == 404
    assert client.delete(f"{base}/matching-conflicts/{conflict.pk}/").status_code == 404
    assert client.get(f"{base}/matching-preferences/{preference.pk}/").status_code == 404
    assert client.get(f"{_base(other_organization)}/matching-proposals/").status_code == 404


def test_conflicts_are_marked_and_removed_through_the_api(organization, run, program_manager, api_client_for, cohort):
    mentor, founders = cohort
    client = api_client_for(program_manager)
    response = client.post(
        f"{_base(organization)}/matching-conflicts/",
        {"mentor": mentor.pk, "enrollment": founders[0].pk, "note": "Investor"},
    )
    assert response.status_code == 201, response.content
    proposal = client.post(f"{_base(organization)}/matching-proposals/", {"run": run.pk}).json()
    by_enrollment = {p["enrollment"]: p["mentor"] for p in proposal["pairs"]}
    assert by_enrollment[founders[0].pk] is None and by_enrollment[founders[1].pk] == mentor.pk
    assert client.delete(f"{_base(organization)}/matching-conflicts/{response.json()['id']}/").status_code == 204


def test_api_keys_need_the_matching_scope(organization, run, api_key_for, key_client):
    _key, reader = api_key_for(organization, scopes=["matching:read"])
    _key, other = api_key_for(organization, scopes=["programs:write"])
    assert key_client(reader).get(f"{_base(organization)}/matching-proposals/").status_code == 200
    assert key_client(reader).post(f"{_base(organization)}/matching-proposals/", {"run": run.pk}).status_code == 403
    assert key_client(other).get(f"{_base(organization)}/matching-proposals/").status_code == 403

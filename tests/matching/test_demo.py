"""The matching demo: needs on every current enrollment, two founders waiting, a proposal to review."""

import pytest

from core import demo
from matching import demo as matching_demo
from matching.models import Preference, Proposal, ProposedPair
from mentors import demo as mentors_demo
from mentors.models import Mentor
from programs import demo as programs_demo


def _seed():
    ctx = demo.seed(lambda message: None)
    for module in (programs_demo, mentors_demo, matching_demo):
        module.seed(ctx, lambda message: None)
    return ctx


@pytest.mark.django_db
def test_the_demo_has_a_proposal_with_reasons_in_each_organization_and_is_idempotent():
    ctx = _seed()
    for organization in ctx.organizations:
        proposal = Proposal.objects.for_organization(organization).get()
        pairs = list(ProposedPair.objects.for_organization(organization).filter(proposal=proposal))
        assert len(pairs) == 2 and all(pair.mentor_id and pair.reasons for pair in pairs)
        assert Preference.objects.for_organization(organization).filter(rank=1).count() == 2
        assert all(m.expertise_areas and m.languages for m in Mentor.objects.for_organization(organization))
    _seed()
    assert sum(Proposal.objects.for_organization(o).count() for o in ctx.organizations) == 2

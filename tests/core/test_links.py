"""The one signed-link token format (core.links.SignedLink) and the one way it refuses a token.

Each app's tokens (participant, self-assessment, survey, session rating, unsubscribe) are built on
it; the last test shows every one of them refuses an altered token the same way.
"""

from __future__ import annotations

import datetime
import time

import pytest
from django.core import signing

from assessments import links as assessment_links
from core.links import LinkExpired, LinkInvalid, SignedLink
from mentors import links as mentor_links
from notifications import links as notification_links
from programs import links as participant_links
from tests.factories.assessments import AssessmentWindowFactory, ValueSurveyFactory
from tests.factories.mentors import MentoringSessionFactory
from tests.factories.programs import EnrollmentFactory

AGING = SignedLink(salt="tests.aging", claims=("e",), max_age=datetime.timedelta(days=1))
FIXED = SignedLink(salt="tests.fixed", claims=("e",), timestamped=False)


def test_a_token_reads_back_its_claims():
    token = AGING.make({"o": 7, "e": 3})
    assert AGING.read(token) == {"o": 7, "e": 3}
    assert AGING.organization_id(token) == 7


def test_making_a_token_without_its_claims_is_a_programming_error():
    with pytest.raises(ValueError, match="needs"):
        AGING.make({"o": 7})
    with pytest.raises(ValueError, match="needs"):
        AGING.make({"e": 3})


@pytest.mark.parametrize("link", [AGING, FIXED])
def test_altered_truncated_and_other_purpose_tokens_are_invalid(link):
    token = link.make({"o": 7, "e": 3})
    other = SignedLink(salt="tests.other", claims=("e",), timestamped=link.timestamped)
    for bad in (token[:-2] + ("xx" if not token.endswith("xx") else "yy"), token[: len(token) // 2], "", "garbage"):
        with pytest.raises(LinkInvalid):
            link.read(bad)
        assert link.organization_id(bad) is None
    with pytest.raises(LinkInvalid):
        other.read(token)


def test_a_token_missing_a_claim_or_with_a_bad_organization_is_invalid():
    with pytest.raises(LinkInvalid, match="incomplete"):
        AGING.read(signing.dumps({"o": 7}, salt=AGING.salt))
    with pytest.raises(LinkInvalid, match="malformed"):
        AGING.read(signing.dumps({"o": "seven", "e": 3}, salt=AGING.salt))
    with pytest.raises(LinkInvalid):
        AGING.read(signing.dumps(["o", "e"], salt=AGING.salt))


def test_age_limit_and_own_expiry_raise_expired_which_is_invalid_too():
    token = AGING.make({"o": 7, "e": 3})
    day = 86400
    assert AGING.read(token, now=time.time() + day - 60)["e"] == 3
    with pytest.raises(LinkExpired):
        AGING.read(token, now=time.time() + day + 60)
    assert issubclass(LinkExpired, LinkInvalid)
    own = SignedLink(salt="tests.own", claims=("e", "x"))
    token = own.make({"o": 7, "e": 3, "x": int(time.time()) + 100})
    assert own.read(token)["e"] == 3
    with pytest.raises(LinkExpired):
        own.read(token, now=time.time() + 200)
    assert own.read(token, now=time.time() + 200, expired_ok=True)["o"] == 7  # to offer a new link
    assert own.organization_id(token, expired_ok=True) == 7


def test_an_ageless_token_is_deterministic_and_never_expires():
    assert FIXED.make({"o": 1, "e": 2}) == FIXED.make({"o": 1, "e": 2})
    assert FIXED.read(FIXED.make({"o": 1, "e": 2}), now=time.time() + 10 * 365 * 86400) == {"o": 1, "e": 2}


@pytest.mark.django_db
def test_every_apps_token_is_refused_one_way(organization):
    enrollment = EnrollmentFactory(run__program__organization=organization)
    window = AssessmentWindowFactory(run=enrollment.run)
    survey = ValueSurveyFactory(program=enrollment.run.program)
    session = MentoringSessionFactory(mentor__organization=organization)
    tokens_and_readers = [
        (participant_links.participant_token(enrollment), participant_links.participant_token_read),
        (
            assessment_links.self_assessment_token(window=window, enrollment=enrollment),
            assessment_links.read_self_assessment_token,
        ),
        (assessment_links.survey_token(survey=survey, enrollment=enrollment), assessment_links.read_survey_token),
        (
            mentor_links.session_rating_token(session=session, participant=enrollment.participant),
            mentor_links.session_rating_token_read,
        ),
        (
            notification_links.unsubscribe_token(organization_id=organization.pk, email="a@example.com", kind="x"),
            notification_links.unsubscribe_token_read,
        ),
    ]
    for token, read in tokens_and_readers:
        claims = read(token)
        organization_id = claims["o"] if isinstance(claims, dict) and "o" in claims else None
        if organization_id is None:
            organization_id = claims["organization_id"] if isinstance(claims, dict) else claims.organization_id
        assert organization_id == organization.pk
        with pytest.raises(LinkInvalid):
            read(token[:-3] + ("abc" if not token.endswith("abc") else "xyz"))
        for other, _ in tokens_and_readers:  # a token of one purpose never reads as another
            if other != token:
                with pytest.raises(LinkInvalid):
                    read(other)

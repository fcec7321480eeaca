"""Absolute links put into reminders: the page where the recipient can act.

Other apps own the pages; these helpers only find their addresses. A portal or admin page
that is not mounted gives no address: a reminder without a button is better than none.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging

from django.urls import NoReverseMatch, reverse

from assessments import links as assessment_links
from core.links import SignedLink
from core.public_url import public_base_url, public_url
from programs import links as participant_links

logger = logging.getLogger(__name__)


def absolute(path: str) -> str:
    return public_url(path) if path else path


def _reverse(name: str, *args, **kwargs) -> str:
    try:
        return absolute(reverse(name, args=args or None, kwargs=kwargs or None))
    except NoReverseMatch:
        logger.debug("no page %s for a reminder link", name)
        return ""


# While set (one planning call, :func:`shared_participant_links`): the participant links made so far.
_shared_links: contextvars.ContextVar[dict | None] = contextvars.ContextVar("shared_participant_links", default=None)


@contextlib.contextmanager
def shared_participant_links():
    """Within the block, one participant link per enrollment and purpose is made and reused.

    Planning writes many messages with the same link (every milestone due today of one
    enrollment): a link signed once for the call is the link each message would get
    when signed within the same second. Nothing outlives the block; the key holds the
    enrollment's organization.
    """
    token = _shared_links.set({})
    try:
        yield
    finally:
        _shared_links.reset(token)


def participant_link(enrollment, purpose: str) -> str:
    """A signed link that lets the participant act without an account (check-in, progress, help)."""
    shared = _shared_links.get()
    base_url = public_base_url()
    if shared is None:
        return participant_links.participant_link(enrollment, purpose, base_url=base_url)
    key = (enrollment.organization_id, enrollment.pk, purpose, base_url)
    link = shared.get(key)
    if link is None:
        link = shared[key] = participant_links.participant_link(enrollment, purpose, base_url=base_url)
    return link


def self_assessment_link(*, window, enrollment) -> str:
    return absolute(assessment_links.self_assessment_link(window=window, enrollment=enrollment))


def mentor_assessment_link(*, window, enrollment) -> str:
    return _reverse("assessments:mentor_assess", window_id=window.pk, enrollment_id=enrollment.pk)


def mentor_assessments_link() -> str:
    return _reverse("assessments:mentor_assessments")


def goal_check_in_link(goal) -> str:
    return _reverse("mentors:goal_check_in", goal.pk)


def help_request_reply_link(help_request) -> str:
    return _reverse("mentors:help_request_reply", help_request.pk)


def mentee_list_link() -> str:
    return _reverse("mentors:mentee_list")


def admin_link(name: str, *args) -> str:
    return _reverse(f"admin:{name}", *args)


def unsubscribe_link(token: str) -> str:
    return _reverse("notifications:unsubscribe", token=token)


# --- One-click unsubscribe --------------------------------------------------------------

UNSUBSCRIBE_SALT = "notifications.unsubscribe"
#: o: organization, e: address, k: kind, l: language (optional). Deterministic (no timestamp),
#: so the link in the body and the List-Unsubscribe header are the same, and it does not
#: expire: old emails keep working.
UNSUBSCRIBE_LINK = SignedLink(salt=UNSUBSCRIBE_SALT, claims=("e", "k"), timestamped=False, compress=True)


def unsubscribe_token(*, organization_id: int, email: str, kind: str, language: str = "") -> str:
    """A signed token naming one person and one kind (see :data:`UNSUBSCRIBE_LINK`)."""
    payload = {"o": organization_id, "e": email.strip().lower(), "k": kind}
    if language:
        payload["l"] = language
    return UNSUBSCRIBE_LINK.make(payload)


def unsubscribe_token_read(token: str) -> dict:
    """The claims of a genuine token (organization_id, email, kind, language); else :class:`LinkInvalid`."""
    payload = UNSUBSCRIBE_LINK.read(token)
    return {
        "organization_id": int(payload["o"]),
        "email": str(payload["e"]),
        "kind": str(payload["k"]),
        "language": str(payload.get("l", "")),
    }


def survey_link(*, survey, enrollment=None, mentor=None) -> str:
    """The signed page where a participant (enrollment) or a mentor answers a value-gap survey."""
    return absolute(assessment_links.survey_link(survey=survey, enrollment=enrollment, mentor=mentor))

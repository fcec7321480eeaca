"""Signed links of the mentors app: a participant rates one session without an account."""

from __future__ import annotations

import datetime

from core.links import LinkInvalid, SignedLink

SESSION_RATING_SALT = "mentors.session-rating"
SESSION_RATING_MAX_AGE = datetime.timedelta(days=60)
#: o: organization, s: session, p: participant.
SESSION_RATING_LINK = SignedLink(salt=SESSION_RATING_SALT, claims=("s", "p"), max_age=SESSION_RATING_MAX_AGE)

__all__ = ("LinkInvalid", "session_rating_token", "session_rating_token_read")


def session_rating_token(*, session, participant) -> str:
    """A signed token that lets one participant rate one session, without logging in."""
    return SESSION_RATING_LINK.make({"o": session.organization_id, "s": session.pk, "p": participant.pk})


def session_rating_token_read(token: str, *, now: float | None = None) -> dict:
    """The claims (o, s, p) of a genuine, unexpired rating token; else :class:`LinkInvalid`."""
    return SESSION_RATING_LINK.read(token, now=now)

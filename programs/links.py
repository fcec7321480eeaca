"""Signed, expiring links that let a participant act without an account.

A link carries the organization, the enrollment, what it is for (its purpose) and when
it expires, signed with Django's ``signing`` (the ``SECRET_KEY``). Changing any
character breaks the signature; a link only ever opens its own enrollment.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from core.links import LinkExpired, LinkInvalid, SignedLink

SALT = "programs.participant-link"
#: o: organization, e: enrollment, p: purpose, x: expiry (the link's own, so each can differ).
LINK = SignedLink(salt=SALT, claims=("e", "p", "x"), compress=True)

#: What a link lets its holder do. "home" opens the overview and every action;
#: the others open only their own page.
PURPOSE_HOME = "home"
PURPOSE_CHECK_IN = "check_in"
PURPOSE_PROGRESS = "progress"
PURPOSE_HELP = "help"
PURPOSES = (PURPOSE_HOME, PURPOSE_CHECK_IN, PURPOSE_PROGRESS, PURPOSE_HELP)


def default_valid_days() -> int:
    return int(getattr(settings, "PROGRAMS_PARTICIPANT_LINK_DAYS", 14))


__all__ = (
    "PURPOSES",
    "LinkClaims",
    "LinkExpired",
    "LinkInvalid",
    "home_token_read",
    "participant_link",
    "participant_token",
    "participant_token_read",
)


@dataclass(frozen=True)
class LinkClaims:
    organization_id: int
    enrollment_id: int
    purpose: str
    expires_at: int  # seconds since the epoch

    def allows(self, purpose: str) -> bool:
        return self.purpose in (PURPOSE_HOME, purpose)


def participant_token(enrollment, purpose: str = PURPOSE_HOME, *, valid_days: int | None = None, now=None) -> str:
    """The signed token part of a participant link (see :func:`participant_link`)."""
    if purpose not in PURPOSES:
        raise ValueError(f"Unknown participant link purpose: {purpose!r} (one of {PURPOSES})")
    days = default_valid_days() if valid_days is None else valid_days
    issued = time.time() if now is None else now
    payload = {
        "o": enrollment.organization_id,
        "e": enrollment.pk,
        "p": purpose,
        "x": int(issued + days * 86400),
    }
    return LINK.make(payload)


def participant_link(
    enrollment,
    purpose: str = PURPOSE_HOME,
    *,
    valid_days: int | None = None,
    base_url: str = "",
    lang: str | None = None,
) -> str:
    """A URL a participant opens on their phone to act for one enrollment, without logging in.

    :param enrollment: the ``programs.Enrollment`` the link works for (and only for).
    :param purpose: ``"home"`` (overview with every action), ``"check_in"``,
        ``"progress"`` (milestone progress) or ``"help"`` (a help request in AID form).
    :param valid_days: days until the link expires; default
        ``settings.PROGRAMS_PARTICIPANT_LINK_DAYS`` (14).
    :param base_url: e.g. ``"https://cohorts.example.com"`` for an absolute URL (emails);
        empty gives a path such as ``/p/<token>/``.
    :param lang: ``"ko"`` or ``"en"`` to force the page language; default is the
        participant's own ``language``.
    :returns: the URL as a string. An expired or altered link opens a page that says
        so (never an error page).
    """
    token = participant_token(enrollment, purpose, valid_days=valid_days)
    url = reverse("programs:participant", args=[token])
    if lang:
        url += "?" + urlencode({"lang": lang})
    return base_url.rstrip("/") + url


def participant_token_read(token: str, *, now=None, expired_ok: bool = False) -> LinkClaims:
    """Check a token's signature and expiry. Raises :class:`LinkInvalid` or :class:`LinkExpired`."""
    payload = LINK.read(token, now=now, expired_ok=expired_ok)
    try:
        claims = LinkClaims(
            organization_id=int(payload["o"]),
            enrollment_id=int(payload["e"]),
            purpose=str(payload["p"]),
            expires_at=int(payload["x"]),
        )
    except (TypeError, ValueError) as error:
        raise LinkInvalid(str(error)) from error
    if claims.purpose not in PURPOSES:
        raise LinkInvalid(f"unknown purpose {claims.purpose!r}")
    return claims


def home_token_read(token: str) -> LinkClaims:
    """A participant token that opens the home (and the pages reached from it); else :class:`LinkInvalid`."""
    claims = participant_token_read(token)
    if claims.purpose != PURPOSE_HOME:
        raise LinkInvalid("not a home link")
    return claims

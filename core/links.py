"""Signed links: the one token format and the one page entry (participants, mentees, respondents, unsubscribe).

Every link a person follows without an account carries a token made by a
:class:`SignedLink` (one per purpose: its salt, the claims it must carry, how it
expires). Reading a token fails one way: :class:`LinkInvalid` for an altered,
truncated or other-purpose token, its subclass :class:`LinkExpired` for a genuine one
whose time is up. Apps keep their own claims (``programs/links.py``,
``assessments/links.py``, ``mentors/links.py``, ``notifications/links.py``) on top.

People who follow a signed link have no account: the token in the URL names the
organization and is itself the proof. :func:`signed_link_page` turns the token into
its organization and opens the same unit of work a logged-in request gets from
:class:`core.middleware.ActiveOrganizationMiddleware` (one transaction, the
unscoped-query guard armed): it sets the row-level-security context of that
organization (no acting user: the audit trail records the change as anonymous) and
puts the organization on ``request.link_organization``. A view therefore never calls
``rls.activate`` itself, and a token whose organization is gone opens nothing.

Forms on these pages are posted from phones, often from a link opened in a mail or
chat app. The responses carry ``Referrer-Policy: same-origin``: the secret URL is
never sent to another site (a participant's evidence link, a video call), while the
browser still sends an ``Origin`` header on the page's own form posts, which is
what Django's CSRF check compares with the host. (``no-referrer`` made Chromium post
``Origin: null``, which CSRF rightly refuses.) CSRF stays on for these forms; see
docs/security.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps

from django.core import signing

from core import rls
from core.models import Organization

REFERRER_POLICY = "same-origin"


class LinkInvalid(Exception):
    """The link was altered, truncated, is for another purpose, or names too little."""


class LinkExpired(LinkInvalid):
    """The link was genuine but its time is up (a :class:`LinkInvalid`, so one ``except`` refuses both)."""


@dataclass(frozen=True)
class SignedLink:
    """One purpose of signed links.

    :param salt: separates purposes: a token of one never reads as another.
    :param claims: the keys every token of this purpose carries (``"o"``, the organization, always).
    :param max_age: how long after signing a token is good; ``None``: no limit by age. A claim
        ``"x"`` (seconds since the epoch), when a token carries one, is its own expiry.
    :param timestamped: ``False`` makes tokens deterministic (same claims, same token) and
        ageless: unsubscribe links in old e-mails keep working.
    :param compress: zlib-compress the payload (shorter URLs for larger claims).
    """

    salt: str
    claims: tuple[str, ...] = ()
    max_age: timedelta | None = None
    timestamped: bool = True
    compress: bool = False

    def make(self, claims: dict) -> str:
        missing = {"o", *self.claims} - claims.keys()
        if missing:
            raise ValueError(f"a {self.salt} link needs {sorted(missing)}")
        if self.timestamped:
            return signing.dumps(claims, salt=self.salt, compress=self.compress)
        return signing.Signer(salt=self.salt).sign_object(claims, compress=self.compress)

    def read(self, token: str, *, now: float | None = None, expired_ok: bool = False) -> dict:
        """The claims of a genuine, unexpired token; raises :class:`LinkInvalid` / :class:`LinkExpired`.

        ``now`` (seconds since the epoch) reads the token as of another moment;
        ``expired_ok`` accepts a genuine token whose time is up (to point its holder to a new link).
        """
        current = time.time() if now is None else now
        try:
            if not self.timestamped:
                payload = signing.Signer(salt=self.salt).unsign_object(token)
            elif self.max_age is None or expired_ok:
                payload = signing.loads(token, salt=self.salt)
            else:
                # Django compares the signature's age with time.time(); shift the limit to ``now``.
                limit = self.max_age.total_seconds() - (current - time.time())
                payload = signing.loads(token, salt=self.salt, max_age=limit)
        except signing.SignatureExpired as error:
            raise LinkExpired(str(error)) from error
        except (signing.BadSignature, ValueError, TypeError) as error:
            raise LinkInvalid(str(error)) from error
        if not isinstance(payload, dict) or not {"o", *self.claims} <= payload.keys():
            raise LinkInvalid("incomplete payload")
        try:
            int(payload["o"])
            expires_at = int(payload["x"]) if "x" in payload else None
        except (TypeError, ValueError) as error:
            raise LinkInvalid("malformed payload") from error
        if expires_at is not None and current > expires_at and not expired_ok:
            raise LinkExpired()
        return payload

    def organization_id(self, token: str, *, expired_ok: bool = False) -> int | None:
        """The organization a genuine token names, else None."""
        try:
            return int(self.read(token, expired_ok=expired_ok)["o"])
        except LinkInvalid:
            return None


def _organization_id(claims) -> int | None:
    if claims is None:
        return None
    value = claims.get("organization_id", claims.get("o")) if isinstance(claims, dict) else claims.organization_id
    return int(value) if value is not None else None


def signed_link_page(read: Callable[[str], object]):
    """Decorate a view that takes ``token``; ``read(token)`` gives its claims or raises :class:`LinkInvalid`.

    The claims name the organization (``organization_id`` attribute, or key ``"o"``). The
    view still reads its own claims (and shows its own page for a bad link); this entry
    only decides which organization's rows the request may touch.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            token = kwargs.get("token", "")
            try:
                organization_id = _organization_id(read(token)) if token else None
            except LinkInvalid:
                organization_id = None
            organization = Organization.objects.filter(pk=organization_id).first() if organization_id else None
            request.link_organization = organization
            # The holder of the link acts, not whoever may be logged in on this browser.
            rls.activate_anonymous(organization.pk if organization is not None else None)
            response = view(request, *args, **kwargs)
            response.setdefault("Referrer-Policy", REFERRER_POLICY)
            response.setdefault("Cache-Control", "no-store")  # personal pages behind a secret URL
            return response

        return wrapper

    return decorator

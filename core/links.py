"""The one entry of every signed-link page (participants, mentees, survey respondents, unsubscribe).

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

from collections.abc import Callable
from functools import wraps

from core import rls
from core.models import Organization

REFERRER_POLICY = "same-origin"


def signed_link_page(organization_id_of: Callable[[str], int | None]):
    """Decorate a view that takes ``token``: ``organization_id_of(token)`` reads it (None if invalid).

    The view still reads its own claims (and shows its own page for a bad link);
    this entry only decides which organization's rows the request may touch.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            token = kwargs.get("token", "")
            organization_id = organization_id_of(token) if token else None
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


def organization_id_reader(read: Callable[[str], object], *errors: type[Exception]) -> Callable[[str], int | None]:
    """``organization_id_of`` from a token reader that returns claims (attribute or key) or raises."""

    def organization_id_of(token: str) -> int | None:
        try:
            claims = read(token)
        except errors:
            return None
        if claims is None:
            return None
        value = claims.get("organization_id", claims.get("o")) if isinstance(claims, dict) else claims.organization_id
        return int(value) if value is not None else None

    return organization_id_of

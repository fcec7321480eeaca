"""Resolve the active organization of each request and arm the tenancy guard; the user's language."""

from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from core import rls, selectors
from core.tenancy import tenant_guard

ACTIVE_ORGANIZATION_SESSION_KEY = "active_organization_id"
# Health checks and the metrics scrape read no tenant rows and must answer while the
# database is down: no request transaction for them.
NO_TRANSACTION_PREFIXES = ("/health/", "/metrics/")


class ActiveOrganizationMiddleware:
    """Sets ``request.organization`` and ``request.membership`` for logged-in users.

    The active organization is the one chosen in the session (see the switcher in the
    admin header and the mentor portal), else the user's first. It is resolved lazily,
    so requests that never need it make no query. The rest of the request runs with
    the unscoped-query guard armed.

    On PostgreSQL the whole request (view and template rendering) is one transaction
    whose row-level-security context (:mod:`core.rls`) is set before the view runs:
    the organization of the URL (``org_slug``), else the session's; every
    organization for platform superusers in the admin (logged); none for anonymous
    requests, which then see no tenant rows.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = SimpleLazyObject(lambda: _active_membership(request))
        request.organization = SimpleLazyObject(lambda: getattr(request.membership, "organization", None))
        with tenant_guard(), rls.request_scope():
            if not rls.is_enforced() or request.path.startswith(NO_TRANSACTION_PREFIXES):
                return self.get_response(request)
            # ATOMIC_REQUESTS wraps only the view; lazy querysets rendered by templates
            # run after it. One outer transaction keeps SET LOCAL in force for both.
            with transaction.atomic():
                return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        _activate_row_level_security(request, view_kwargs)
        return None


def _activate_row_level_security(request, view_kwargs) -> None:
    user = getattr(request, "user", None)
    if not rls.is_enforced():
        rls.activate(None, user=user)  # records the acting user for the audit trail
        return
    if view_kwargs.get("org_slug"):
        # API paths name the organization; the API base checks membership (404) later.
        if request.path.startswith(API_PREFIX) and _carries_api_key(request):
            # The key's authenticator activates it in the statement that reads the key
            # (integrations.authentication); whatever else reads first activates it as usual.
            rls.defer_slug(request, view_kwargs["org_slug"])
        else:
            rls.activate_organization_slug(view_kwargs["org_slug"])
        return
    if user is None or not user.is_authenticated:
        rls.deactivate()
        return
    match = getattr(request, "resolver_match", None)
    if user.is_superuser and match is not None and "admin" in match.namespaces:
        rls.activate_all_organizations(reason=f"platform superuser in the admin: {request.path}", user=user)
        return
    organization = request.organization
    rls.activate(organization.pk if organization else None, user=user)


API_PREFIX = "/api/"
API_KEY_BEARER = "bearer ck_"


def _carries_api_key(request) -> bool:
    return request.META.get("HTTP_AUTHORIZATION", "")[: len(API_KEY_BEARER)].lower() == API_KEY_BEARER


def _active_membership(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    wanted = request.session.get(ACTIVE_ORGANIZATION_SESSION_KEY)
    return selectors.membership_active_for_user(user=user, organization_id=wanted)


# Pages where a logged-in person's saved language applies (the API speaks JSON; signed-link
# pages follow the participant's language).
USER_LANGUAGE_PREFIXES = ("/admin/", "/mentor/")


def _supported(language) -> str | None:
    try:
        return translation.get_supported_language_variant(language) if language else None
    except LookupError:
        return None


def _default_user_language() -> str:
    from core.models import User

    return User._meta.get_field("language").default


def _set_language_path() -> str | None:
    try:
        return reverse("set_language")
    except NoReverseMatch:  # a URLconf without the language selector
        return None


class UserLanguageMiddleware:
    """The admin and the mentor portal speak a logged-in person's saved language (``User.language``).

    Order of precedence, after :class:`~django.middleware.locale.LocaleMiddleware` has
    read the cookie and the browser's ``Accept-Language``:

    1. the language chosen with the language selector (Django's ``set_language`` view,
       which sets the language cookie); choosing one while logged in also saves it to
       the account, so that it follows the person to another browser and into emails;
    2. the account's saved language, when no language was chosen in this browser and the
       account holds a language other than the field's default (Korean): every account
       starts with the default, which therefore cannot tell a choice from no choice;
    3. the browser's language (anonymous visitors and accounts on the default: the cookie
       or ``Accept-Language``, as before), else ``LANGUAGE_CODE``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.path == _set_language_path():
            self._save_choice(request)
        elif request.path.startswith(USER_LANGUAGE_PREFIXES) and not _supported(
            request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        ):
            user = getattr(request, "user", None)
            saved = _supported(getattr(user, "language", "")) if user is not None and user.is_authenticated else None
            if saved and saved != _default_user_language():
                translation.activate(saved)
                request.LANGUAGE_CODE = saved
        return self.get_response(request)

    def _save_choice(self, request) -> None:
        user = getattr(request, "user", None)
        chosen = request.POST.get("language", "")
        if user is None or not user.is_authenticated or chosen not in dict(settings.LANGUAGES):
            return
        from core.services import user_language_set

        user_language_set(user=user, language=chosen)


# Browser features no page of ours uses: a page (or an injected script) cannot ask for them.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=(), browsing-topics=()"
)


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not set.

    * ``Permissions-Policy`` on every response;
    * ``Cache-Control: no-store`` on API responses (``/api/``) that did not choose their
      own caching: they carry one organization's data, which a shared cache or the
      browser's history must not keep.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if request.path.startswith("/api/") and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response

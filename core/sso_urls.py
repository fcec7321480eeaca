"""The routes of social sign-in, under /accounts/: each provider's OAuth2 start and callback.

Only these: allauth's own account pages (password log-in, sign-up, password reset,
e-mail management) are not routed, so the admin and portal log-ins stay the only
password paths. The few names allauth redirects to on its detours lead to our page.
"""

from allauth.socialaccount.providers.google.provider import GoogleProvider
from allauth.socialaccount.providers.kakao.provider import KakaoProvider
from allauth.socialaccount.providers.naver.provider import NaverProvider
from allauth.socialaccount.providers.oauth2.urls import default_urlpatterns
from django.urls import path

from core import sso


def _refused(reason: str):
    def view(request):
        return sso.refusal_response(request, reason)

    return view


urlpatterns = [
    *default_urlpatterns(GoogleProvider),
    *default_urlpatterns(KakaoProvider),
    *default_urlpatterns(NaverProvider),
    # allauth's detours: a sign-up form (we have none), a turned-off account, a cancelled sign-in.
    path("signup/", _refused("unknown"), name="socialaccount_signup"),
    path("inactive/", _refused("inactive"), name="account_inactive"),
    path("login/cancelled/", _refused("cancelled"), name="socialaccount_login_cancelled"),
    path("login/error/", _refused("error"), name="socialaccount_login_error"),
]

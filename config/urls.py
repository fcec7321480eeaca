from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core import health, metrics
from core.api.views import MyOrganizationsView

# Every app's tenant API lives under /api/v1/orgs/<org_slug>/.
tenant_api = [
    path("", include("core.api.urls")),
    path("", include("programs.api.urls")),
    path("", include("mentors.api.urls")),
    path("", include("officehours.api.urls")),
    path("", include("assessments.api.urls")),
    path("", include("matching.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("integrations.api.urls")),
    path("", include("privacy.api.urls")),
]

urlpatterns = [
    path("", include("core.web_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("health/live/", health.live, name="health-live"),
    path("health/ready/", health.ready, name="health-ready"),
    path("metrics/", metrics.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/", include("core.sso_urls")),  # sign-in with Google, Kakao, Naver (core/sso.py)
    path("api/v1/orgs/", MyOrganizationsView.as_view(), name="my-organizations"),
    path("api/v1/orgs/<slug:org_slug>/", include(tenant_api)),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("p/", include("programs.urls")),
    path("", include("officehours.urls")),  # /mentor/office-hours/… and /oh/<token>/
    path("mentor/matching/", include("matching.portal_urls")),  # the mentor's matching pages
    path("mentor/", include("mentors.urls")),
    path("match/", include("matching.urls")),
    path("a/", include("assessments.urls")),
    path("n/", include("notifications.urls")),
    path("i/", include("integrations.urls")),
]

# Under /api/ these answer RFC 9457 problem+json; elsewhere Django's own pages.
handler400 = "core.api.problems.handler400"
handler403 = "core.api.problems.handler403"
handler404 = "core.api.problems.handler404"
handler500 = "core.api.problems.handler500"

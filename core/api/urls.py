"""Tenant API routes. Each app adds its own router under the same org prefix."""

from rest_framework.routers import DefaultRouter

from core.api.views import MembershipViewSet

router = DefaultRouter()
router.register("memberships", MembershipViewSet, basename="membership")

urlpatterns = router.urls

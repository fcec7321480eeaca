from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions

from core import selectors
from core.api.base import TenantReadOnlyModelViewSet
from core.api.permissions import api_key_of
from core.api.serializers import MembershipSerializer, OrganizationSerializer
from core.models import Membership, Organization


@extend_schema(summary="Organizations I belong to")
class MyOrganizationsView(generics.ListAPIView):
    serializer_class = OrganizationSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Organization.objects.none()
        api_key = api_key_of(self.request)
        if api_key is not None:
            # A key belongs to exactly one organization.
            return Organization.objects.filter(pk=api_key.organization_id).order_by("name", "id")
        return selectors.organizations_for_user(user=self.request.user).order_by("name", "id")


class MembershipViewSet(TenantReadOnlyModelViewSet):
    """Members of the organization and their roles."""

    model = Membership
    serializer_class = MembershipSerializer
    ordering_fields = ["created_at", "role"]
    filterset_fields = ["role"]

    def safely_get_queryset(self, queryset):
        return queryset.select_related("user").order_by("id")

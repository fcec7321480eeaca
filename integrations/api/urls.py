from rest_framework.routers import DefaultRouter

from integrations.api.views import WebhookDeliveryViewSet, WebhookSubscriptionViewSet

router = DefaultRouter()
router.register("webhook-subscriptions", WebhookSubscriptionViewSet, basename="webhook-subscription")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")

urlpatterns = router.urls

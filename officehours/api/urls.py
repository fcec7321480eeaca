from rest_framework.routers import DefaultRouter

from officehours.api import views

router = DefaultRouter()
router.register("office-hour-slots", views.OfficeHourSlotViewSet, basename="office-hour-slot")
router.register("office-hour-bookings", views.OfficeHourBookingViewSet, basename="office-hour-booking")

urlpatterns = router.urls

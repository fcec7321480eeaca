from rest_framework.routers import DefaultRouter

from privacy.api import views

router = DefaultRouter()
router.register("privacy/requests", views.DataSubjectRequestViewSet, basename="data-subject-request")

urlpatterns = router.urls

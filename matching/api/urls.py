from rest_framework.routers import DefaultRouter

from matching.api import views

router = DefaultRouter()
router.register("matching-proposals", views.ProposalViewSet, basename="matching-proposal")
router.register("matching-conflicts", views.ConflictViewSet, basename="matching-conflict")
router.register("matching-preferences", views.PreferenceViewSet, basename="matching-preference")

urlpatterns = router.urls

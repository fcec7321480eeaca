from rest_framework.routers import DefaultRouter

from mentors.api import views

router = DefaultRouter()
router.register("mentors", views.MentorViewSet, basename="mentor")
router.register("mentor-invitations", views.MentorInvitationViewSet, basename="mentor-invitation")
router.register("development-goals", views.DevelopmentGoalViewSet, basename="development-goal")
router.register("key-results", views.KeyResultViewSet, basename="key-result")
router.register("goal-check-ins", views.GoalCheckInViewSet, basename="goal-check-in")
router.register("mentoring-sessions", views.MentoringSessionViewSet, basename="mentoring-session")

urlpatterns = router.urls

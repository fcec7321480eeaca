from rest_framework.routers import DefaultRouter

from programs.api import views

router = DefaultRouter()
router.register("programs", views.ProgramViewSet, basename="program")
router.register("milestone-templates", views.MilestoneTemplateViewSet, basename="milestone-template")
router.register("runs", views.RunViewSet, basename="run")
router.register("participants", views.ParticipantViewSet, basename="participant")
router.register("teams", views.TeamViewSet, basename="team")
router.register("team-memberships", views.TeamMembershipViewSet, basename="team-membership")
router.register("enrollments", views.EnrollmentViewSet, basename="enrollment")
router.register("mentor-assignments", views.MentorAssignmentViewSet, basename="mentor-assignment")
router.register("milestones", views.MilestoneViewSet, basename="milestone")
router.register("milestone-progress", views.MilestoneProgressViewSet, basename="milestone-progress")
router.register("check-ins", views.CheckInViewSet, basename="check-in")
router.register("help-requests", views.HelpRequestViewSet, basename="help-request")
router.register("help-request-replies", views.HelpRequestReplyViewSet, basename="help-request-reply")

urlpatterns = router.urls

from rest_framework.routers import DefaultRouter

from assessments.api import views

router = DefaultRouter()
router.include_root_view = False
router.register("frameworks", views.FrameworkViewSet, basename="framework")
router.register("levels", views.LevelViewSet, basename="level")
router.register("indicators", views.IndicatorViewSet, basename="indicator")
router.register("assessment-windows", views.AssessmentWindowViewSet, basename="assessment-window")
router.register("assessments", views.AssessmentViewSet, basename="assessment")
router.register("value-surveys", views.ValueSurveyViewSet, basename="value-survey")
router.register("value-statements", views.ValueStatementViewSet, basename="value-statement")
router.register("survey-responses", views.SurveyResponseViewSet, basename="survey-response")
router.register("assessment-reports", views.CohortReportViewSet, basename="assessment-report")

urlpatterns = router.urls

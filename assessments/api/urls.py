from django.urls import path
from rest_framework.routers import DefaultRouter

from assessments.api import outcomes, views

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

# Outcomes beside process health (read-only; assessments/api/outcomes.py).
urlpatterns += [
    path("runs/<int:run_id>/outcomes/", outcomes.RunOutcomesViewSet.as_view({"get": "retrieve"}), name="run-outcomes"),
    path(
        "runs/<int:run_id>/outcomes/csv/",
        outcomes.RunOutcomesViewSet.as_view({"get": "csv"}),
        name="run-outcomes-csv",
    ),
    path(
        "runs/<int:run_id>/value-gaps-by-stage/",
        outcomes.SurveyStagesViewSet.as_view({"get": "retrieve"}),
        name="run-value-gaps-by-stage",
    ),
    path(
        "runs/<int:run_id>/value-gaps-by-stage/csv/",
        outcomes.SurveyStagesViewSet.as_view({"get": "csv"}),
        name="run-value-gaps-by-stage-csv",
    ),
    path(
        "reports/outcomes/",
        outcomes.OrganizationOutcomesViewSet.as_view({"get": "outcomes_report"}),
        name="organization-outcomes",
    ),
    path(
        "reports/outcomes/csv/",
        outcomes.OrganizationOutcomesViewSet.as_view({"get": "outcomes_report_csv"}),
        name="organization-outcomes-csv",
    ),
]

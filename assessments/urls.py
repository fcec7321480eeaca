"""Pages of the assessments app, mounted at /a/."""

from django.urls import path

from assessments import views

app_name = "assessments"

urlpatterns = [
    # Participants and mentors without a login: signed links.
    path("self/<str:token>/", views.self_assessment, name="self_assessment"),
    path("survey/<str:token>/", views.survey_answer, name="survey_answer"),
    # Mentor portal.
    path("mentor/assessments/", views.mentor_assessments, name="mentor_assessments"),
    path(
        "mentor/assessments/<int:window_id>/<int:enrollment_id>/",
        views.mentor_assess,
        name="mentor_assess",
    ),
    path("mentor/surveys/", views.mentor_surveys, name="mentor_surveys"),
]

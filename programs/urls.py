"""Public pages of the programs app, mounted at /p/ (no login: the URL carries the secret)."""

from django.urls import path

from programs import views

app_name = "programs"

urlpatterns = [
    path("calendar/<slug:org_slug>/<str:token>.ics", views.run_calendar, name="run_calendar"),
    path("<slug:org_slug>/lost-link/", views.lost_link, name="lost_link"),
    path("<str:token>/", views.participant_page, name="participant"),
    path("<str:token>/check-in/", views.participant_page, {"section": "check_in"}, name="participant_check_in"),
    path("<str:token>/progress/", views.participant_page, {"section": "progress"}, name="participant_progress"),
    path("<str:token>/help/", views.participant_page, {"section": "help"}, name="participant_help"),
]

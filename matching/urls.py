"""Public pages of matching, mounted at /match/ (no login: the participant's signed home link)."""

from django.urls import path

from matching import views

app_name = "matching"

urlpatterns = [
    path("<str:token>/", views.participant_preferences, name="participant_preferences"),
]

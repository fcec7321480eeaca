"""The mentor's matching pages in the portal, mounted at /mentor/matching/ (config/urls.py).

They live in ``matching`` (which depends on ``mentors``), not in ``mentors/urls.py``, so that
``mentors`` never imports ``matching``.
"""

from django.urls import path

from matching import portal_views

app_name = "matching_portal"

urlpatterns = [
    path("", portal_views.matching_profile, name="matching_profile"),
    path("runs/<int:run_id>/", portal_views.mentee_preferences, name="mentee_preferences"),
]

"""The mentor portal's channels page, included by ``mentors/urls.py`` under ``/mentor/channels/``.

No ``app_name``: the route takes the portal's namespace (``mentors:channels``).
"""

from django.urls import path

from notifications import portal_views

urlpatterns = [
    path("", portal_views.mentor_channels, name="channels"),
]

"""The mentor portal, under /mentor/."""

from django.urls import include, path

from mentors import views

app_name = "mentors"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.PortalLoginView.as_view(), name="login"),
    path("logout/", views.PortalLogoutView.as_view(), name="logout"),
    path("switch-organization/", views.organization_switch, name="switch_organization"),
    path("profile/", views.profile, name="profile"),
    path("channels/", include("notifications.portal_urls")),  # mentors:channels, how I get messages
    path("goals/", views.goal_list, name="goal_list"),
    path("goals/new/", views.goal_create, name="goal_create"),
    path("goals/<int:goal_id>/", views.goal_detail, name="goal_detail"),
    path("goals/<int:goal_id>/edit/", views.goal_edit, name="goal_edit"),
    path("goals/<int:goal_id>/check-in/", views.goal_check_in, name="goal_check_in"),
    path("goals/<int:goal_id>/archive/", views.goal_archive, name="goal_archive"),
    path("goals/<int:goal_id>/restore/", views.goal_restore, name="goal_restore"),
    path("mentees/", views.mentee_list, name="mentee_list"),
    path("mentees/<int:enrollment_id>/", views.mentee_detail, name="mentee_detail"),
    path("help-requests/<int:help_request_id>/reply/", views.help_request_reply, name="help_request_reply"),
    path("runs/<int:run_id>/approach/", views.approach_edit, name="approach_edit"),
    path("sessions/", views.session_list, name="session_list"),
    path("sessions/new/", views.session_create, name="session_create"),
    path("sessions/<int:session_id>/", views.session_detail, name="session_detail"),
    # Links that work without being logged in.
    path("join/<slug:org_slug>/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("rate/<str:token>/", views.session_rate, name="session_rate"),
]

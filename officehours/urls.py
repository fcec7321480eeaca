"""Office hours: the mentor's pages under /mentor/office-hours/, the participant's under /oh/."""

from django.urls import path

from officehours import views

app_name = "officehours"

urlpatterns = [
    path("mentor/office-hours/", views.mentor_home, name="mentor_home"),
    path("mentor/office-hours/new/", views.slot_create, name="slot_create"),
    path("mentor/office-hours/slots/<int:slot_id>/", views.slot_edit, name="slot_edit"),
    path("mentor/office-hours/slots/<int:slot_id>/withdraw/", views.slot_withdraw, name="slot_withdraw"),
    path(
        "mentor/office-hours/bookings/<int:booking_id>/cancel/",
        views.mentor_booking_cancel,
        name="mentor_booking_cancel",
    ),
    path("mentor/office-hours/bookings/<int:booking_id>/session/", views.booking_session, name="booking_session"),
    path("oh/<str:token>/", views.participant_page, name="participant"),
    path("oh/<str:token>/bookings/<int:booking_id>/cancel/", views.participant_page, name="participant_cancel"),
]

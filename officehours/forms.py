"""Forms of the mentor portal's office hours and of the participant's booking page."""

from __future__ import annotations

import datetime
import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from officehours.models import OfficeHourSlot

COMMON_ZONES = [
    "Asia/Seoul",
    "Asia/Tokyo",
    "Asia/Singapore",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
]


def zone_choices(current: str) -> list[tuple[str, str]]:
    first = [current] + [zone for zone in COMMON_ZONES if zone != current]
    rest = sorted(zoneinfo.available_timezones() - set(first))
    return [(zone, zone) for zone in first + rest]


class SlotForm(forms.Form):
    title = forms.CharField(
        label=_("Title"), max_length=120, required=False, help_text=_("For example: Pricing questions.")
    )
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(label=_("Start time"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    duration_minutes = forms.IntegerField(label=_("Length (minutes)"), min_value=10, max_value=240, initial=30)
    time_zone = forms.ChoiceField(label=_("Time zone"))
    repeat = forms.ChoiceField(
        label=_("Repeats"),
        choices=OfficeHourSlot.Repeat.choices,
        initial=OfficeHourSlot.Repeat.ONCE,
        widget=forms.RadioSelect,
    )
    repeat_until = forms.DateField(
        label=_("Every week until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    location = forms.CharField(label=_("Place"), max_length=200, required=False)
    video_url = forms.URLField(label=_("Video link"), max_length=500, required=False, assume_scheme="https")
    cancel_window_hours = forms.IntegerField(
        label=_("No cancelling within (hours)"),
        min_value=0,
        max_value=168,
        initial=12,
        help_text=_("Participants cannot cancel this close to the start; you still can."),
    )

    def __init__(self, *args, default_zone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = zone_choices(default_zone)
        self.fields["time_zone"].initial = default_zone

    def slot_fields(self) -> dict:
        """The service's keyword arguments: the local date and time made an aware instant."""
        data = self.cleaned_data
        zone = zoneinfo.ZoneInfo(data["time_zone"])
        starts_at = datetime.datetime.combine(data["date"], data["start_time"]).replace(tzinfo=zone)
        return {
            "title": data["title"].strip(),
            "starts_at": starts_at.astimezone(datetime.UTC),
            "duration_minutes": data["duration_minutes"],
            "time_zone": data["time_zone"],
            "repeat": data["repeat"],
            "repeat_until": data["repeat_until"] if data["repeat"] == OfficeHourSlot.Repeat.WEEKLY else None,
            "location": data["location"].strip(),
            "video_url": data["video_url"].strip(),
            "cancel_window_hours": data["cancel_window_hours"],
        }


class SlotChangeForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120, required=False)
    location = forms.CharField(label=_("Place"), max_length=200, required=False)
    video_url = forms.URLField(label=_("Video link"), max_length=500, required=False, assume_scheme="https")
    cancel_window_hours = forms.IntegerField(label=_("No cancelling within (hours)"), min_value=0, max_value=168)


class BookingForm(forms.Form):
    slot = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    starts_at = forms.DateTimeField(widget=forms.HiddenInput, input_formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%MZ"])
    topic = forms.CharField(
        label=_("What would you like to talk about? (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), max_length=300, required=False)


class SessionFromBookingForm(forms.Form):
    topics = forms.CharField(label=_("Topics"), max_length=300, required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    next_steps = forms.CharField(label=_("Next steps"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

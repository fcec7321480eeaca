"""Office hours: slots a mentor publishes, and the bookings participants make in them.

* :class:`OfficeHourSlot`: one-off or weekly (until a date), a length, a place or a
  video link, in the mentor's time zone. Times are stored in UTC; the weekly series is
  expanded with ``dateutil.rrule`` on the local wall clock (10:00 stays 10:00 across
  daylight saving), see :mod:`officehours.occurrences`.
* :class:`OfficeHourBooking`: one participant in one occurrence. A partial unique
  constraint (one active booking per slot and start) is the last word on double
  booking; the service also locks the slot row (``select_for_update``). The booking's
  ``uid`` and ``sequence`` are those of its iCalendar invitation.
"""

from __future__ import annotations

import uuid
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import TenantModel

DEFAULT_CANCEL_WINDOW_HOURS = 12


class OfficeHourSlot(TenantModel):
    class Repeat(models.TextChoices):
        ONCE = "once", _("Once")
        WEEKLY = "weekly", _("Every week")

    class Status(models.TextChoices):
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    mentor = models.ForeignKey(
        "mentors.Mentor", verbose_name=_("mentor"), on_delete=models.CASCADE, related_name="office_hour_slots"
    )
    title = models.CharField(_("title"), max_length=120, blank=True, help_text=_("For example: Pricing questions."))
    starts_at = models.DateTimeField(_("first start"), help_text=_("Stored in UTC."))
    duration_minutes = models.PositiveSmallIntegerField(
        _("length (minutes)"), default=30, validators=[MinValueValidator(10), MaxValueValidator(240)]
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Seoul")
    repeat = models.CharField(_("repeats"), max_length=8, choices=Repeat.choices, default=Repeat.ONCE)
    repeat_until = models.DateField(_("until"), null=True, blank=True, help_text=_("Last day of a weekly series."))
    location = models.CharField(_("place"), max_length=200, blank=True)
    video_url = models.URLField(_("video link"), max_length=500, blank=True)
    cancel_window_hours = models.PositiveSmallIntegerField(
        _("no cancelling within (hours)"),
        default=DEFAULT_CANCEL_WINDOW_HOURS,
        validators=[MaxValueValidator(168)],
        help_text=_("A participant cannot cancel this close to the start; the mentor still can."),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PUBLISHED)

    class Meta:
        verbose_name = _("office-hours slot")
        verbose_name_plural = _("office-hours slots")
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["organization", "mentor", "status"], name="officehourslot_mentor")]

    def __str__(self) -> str:
        return self.title or str(_("Office hours"))

    def clean(self):
        super().clean()
        errors = {}
        if self.time_zone not in zoneinfo.available_timezones():
            errors["time_zone"] = _("Unknown time zone: %(tz)s") % {"tz": self.time_zone}
        if not self.location.strip() and not self.video_url.strip():
            errors["location"] = _("Give a place or a video link.")
        if self.repeat == self.Repeat.WEEKLY:
            if self.repeat_until is None:
                errors["repeat_until"] = _("A weekly slot needs a last day.")
            elif self.starts_at and self.repeat_until < self.local_start().date():
                errors["repeat_until"] = _("The last day is before the first one.")
            elif self.starts_at and (self.repeat_until - self.local_start().date()).days > 366:
                errors["repeat_until"] = _("A weekly slot can repeat for a year at most.")
        if errors:
            raise ValidationError(errors)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    def local_start(self):
        return self.starts_at.astimezone(self.zone)


class OfficeHourBooking(TenantModel):
    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        HELD = "held", _("Held (session logged)")
        CANCELLED = "cancelled", _("Cancelled")

    class CancelledBy(models.TextChoices):
        PARTICIPANT = "participant", _("Participant")
        MENTOR = "mentor", _("Mentor")
        MANAGER = "manager", _("Program manager")

    slot = models.ForeignKey(OfficeHourSlot, verbose_name=_("slot"), on_delete=models.CASCADE, related_name="bookings")
    mentor = models.ForeignKey(
        "mentors.Mentor", verbose_name=_("mentor"), on_delete=models.CASCADE, related_name="office_hour_bookings"
    )
    enrollment = models.ForeignKey(
        "programs.Enrollment", verbose_name=_("enrollment"), on_delete=models.CASCADE, related_name="+"
    )
    run = models.ForeignKey("programs.Run", verbose_name=_("run"), on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    topic = models.TextField(_("what to talk about"), max_length=1000, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.BOOKED)
    uid = models.CharField(_("calendar UID"), max_length=100, editable=False)
    sequence = models.PositiveIntegerField(_("calendar sequence"), default=0, editable=False)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.CharField(_("cancelled by"), max_length=16, choices=CancelledBy.choices, blank=True)
    cancel_reason = models.CharField(_("reason"), max_length=300, blank=True)
    session = models.ForeignKey(
        "mentors.MentoringSession",
        verbose_name=_("session"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="office_hour_bookings",
    )

    ACTIVE_STATUSES = (Status.BOOKED, Status.HELD)

    class Meta:
        verbose_name = _("office-hours booking")
        verbose_name_plural = _("office-hours bookings")
        ordering = ["starts_at", "id"]
        constraints = [
            # The last word on double booking, whatever the application does.
            models.UniqueConstraint(
                fields=["organization", "slot", "starts_at"],
                condition=Q(status__in=["booked", "held"]),
                name="officehourbooking_one_active_per_occurrence",
            ),
            models.UniqueConstraint(fields=["organization", "uid"], name="officehourbooking_uid_unique"),
            models.UniqueConstraint(
                fields=["organization", "session"],
                condition=Q(session__isnull=False),
                name="officehourbooking_one_per_session",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "run", "starts_at"], name="officehourbooking_run"),
            models.Index(fields=["organization", "mentor", "starts_at"], name="officehourbooking_mentor"),
        ]

    def __str__(self) -> str:
        return f"{self.slot} · {self.starts_at:%Y-%m-%d %H:%M} UTC"

    def save(self, *args, **kwargs):
        if not self.uid:
            self.uid = f"officehours-{uuid.uuid4()}"
        super().save(*args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

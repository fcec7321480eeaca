"""Admin pages of the mentors app for program managers.

PMs manage mentors and invitations and fix each run's mentoring essentials. They see
the goals mentors *shared* (never private ones, not even platform superusers: a
private goal belongs to its mentor) and the session activity, read-only.
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import admin, messages
from django.db.models import Avg, Count, Q
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin_base import TenantAdmin, TenantInline, active_organization, scope_for_request
from core.models import User
from mentors import selectors, services
from mentors.models import (
    DevelopmentGoal,
    GoalCheckIn,
    KeyResult,
    Mentor,
    MentoringApproach,
    MentoringSession,
    MentorInvitation,
    RunMentoringEssentials,
    SessionAttendance,
    SessionRating,
)


class MentorListFilter(admin.SimpleListFilter):
    """Filter by mentor, listing the organization's mentors with their names in one query."""

    title = _("mentor")
    parameter_name = "mentor"

    def lookups(self, request, model_admin):
        organization = active_organization(request)
        if organization is None:
            return []
        return [(str(m.pk), str(m)) for m in selectors.mentors_list(organization=organization)]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(mentor_id=value) if value and value.isdigit() else queryset


class ReadOnlyInline(TenantInline):
    """An inline that shows rows and never changes them."""

    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MentoringApproachInline(ReadOnlyInline):
    model = MentoringApproach
    fields = ["run", "format", "cadence", "focus"]
    readonly_fields = fields


@admin.register(Mentor)
class MentorAdmin(TenantAdmin):
    """Mentors of the organization. New mentors come in through invitations."""

    list_display = ["__str__", "email", "status", "capacity", "sessions_last_30_days", "rating_average"]
    list_filter = ["status"]
    search_fields = ["user__name", "user__email"]
    ordering = ["user__name", "id"]
    inlines = [MentoringApproachInline]
    change_list_template = "admin/mentors/mentor/change_list.html"

    def get_fields(self, request, obj=None):
        fields = ["bio", "motivation", "expertise", "capacity", "availability", "other_affiliations", "status"]
        return (["user"] if obj is None else ["user_display"]) + fields

    def get_readonly_fields(self, request, obj=None):
        return ["user_display"] if obj is not None else []

    def has_add_permission(self, request, *args):
        # Choosing among every account of the platform is for platform staff only;
        # program managers invite mentors by email instead.
        return request.user.is_superuser

    def get_queryset(self, request):
        since = timezone.now().date() - datetime.timedelta(days=30)
        return (
            super()
            .get_queryset(request)
            .select_related("user")
            .annotate(
                recent_sessions=Count(
                    "sessions",
                    filter=Q(sessions__held_on__gte=since, sessions__archived_at__isnull=True),
                    distinct=True,
                ),
                # Only ratings of sessions with enough raters to stay anonymous (selectors.MIN_RATERS).
                average_rating=Avg(
                    "sessions__ratings__score",
                    filter=Q(sessions__in=_sessions_with_enough_raters(request)),
                ),
            )
        )

    @admin.display(description=_("user"))
    def user_display(self, obj: Mentor) -> str:
        return f"{obj.user.get_full_name()} <{obj.user.email}>"

    @admin.display(description=_("email"), ordering="user__email")
    def email(self, obj: Mentor) -> str:
        return obj.user.email

    @admin.display(description=_("sessions (30 days)"), ordering="recent_sessions")
    def sessions_last_30_days(self, obj: Mentor) -> int:
        return obj.recent_sessions

    @admin.display(description=_("average rating"), ordering="average_rating")
    def rating_average(self, obj: Mentor) -> str:
        return f"{obj.average_rating:.1f}" if obj.average_rating is not None else "–"

    def get_urls(self):
        urls = [
            path(
                "activity/",
                self.admin_site.admin_view(self.activity_view),
                name="mentors_mentor_activity",
            )
        ]
        return urls + super().get_urls()

    def activity_view(self, request):
        """Sessions per mentor per month over the last six months, with the average rating."""
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        organization = active_organization(request)
        today = timezone.localdate()
        first_month = (today.replace(day=1) - datetime.timedelta(days=150)).replace(day=1)
        months = []
        cursor = first_month
        while cursor <= today:
            months.append(cursor)
            cursor = (cursor + datetime.timedelta(days=32)).replace(day=1)
        rows = selectors.mentor_activity_by_month(organization=organization, since=first_month) if organization else []
        mentors = list(selectors.mentors_list(organization=organization)) if organization else []
        by_key = {(row["mentor_id"], row["month"]): row for row in rows}
        table = [
            {
                "mentor": mentor,
                "cells": [by_key.get((mentor.pk, month)) for month in months],
                "total": sum(by_key[(mentor.pk, m)]["sessions"] for m in months if (mentor.pk, m) in by_key),
            }
            for mentor in mentors
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Mentor session activity"),
            "months": months,
            "table": table,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/mentors/mentor/activity.html", context)


class InvitationAddForm(forms.ModelForm):
    class Meta:
        model = MentorInvitation
        fields = ["email", "name", "language", "message"]

    def __init__(self, *args, organization=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        user = User.objects.filter(email__iexact=email).first()
        if user is not None and self.organization is not None:
            mentor = selectors.mentor_for_user(organization=self.organization, user=user)
            if mentor is not None and mentor.status == Mentor.Status.ACTIVE:
                raise forms.ValidationError(_("This person is already an active mentor of the organization."))
        return email


@admin.action(description=_("Send a new invitation link"))
def resend_invitations(modeladmin, request, queryset):
    organization = active_organization(request)
    count = 0
    for invitation in queryset.filter(accepted_at__isnull=True):
        services.invitation_create(
            organization=organization or invitation.organization,
            email=invitation.email,
            name=invitation.name,
            language=invitation.language,
            message=invitation.message,
            invited_by=request.user,
            base_url=request.build_absolute_uri("/"),
        )
        count += 1
    messages.success(request, ngettext("%(n)d invitation sent.", "%(n)d invitations sent.", count) % {"n": count})


@admin.register(MentorInvitation)
class MentorInvitationAdmin(TenantAdmin):
    """Invite mentors by email. Sent invitations are read-only; send a new one instead."""

    list_display = ["email", "name", "state_display", "expires_at", "invited_by", "created_at"]
    search_fields = ["email", "name"]
    list_select_related = ["invited_by"]
    ordering = ["-created_at", "-id"]
    actions = [resend_invitations]
    readonly_fields = ["state_display", "expires_at", "accepted_at", "invited_by"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["email", "name", "language", "message"]
        return ["email", "name", "language", "message", "state_display", "expires_at", "accepted_at", "invited_by"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return self.get_fields(request, obj)

    def has_change_permission(self, request, obj=None):
        # The change page is only for looking; the changelist still needs the permission for actions.
        return super().has_change_permission(request, obj) and obj is None

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            organization = active_organization(request)

            class BoundInvitationAddForm(InvitationAddForm):
                def __init__(self, *args, **inner):
                    super().__init__(*args, organization=organization, **inner)

            kwargs["form"] = BoundInvitationAddForm
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            return
        organization = active_organization(request)
        invitation, _token = services.invitation_create(
            organization=organization,
            email=form.cleaned_data["email"],
            name=form.cleaned_data["name"],
            language=form.cleaned_data["language"],
            message=form.cleaned_data["message"],
            invited_by=request.user,
            base_url=request.build_absolute_uri("/"),
        )
        # The admin continues with the saved object (for its message and redirect).
        obj.pk = invitation.pk
        obj.organization = invitation.organization
        obj.expires_at = invitation.expires_at
        obj.token_hash = invitation.token_hash

    @admin.display(description=_("state"))
    def state_display(self, obj: MentorInvitation) -> str:
        return {"accepted": _("Accepted"), "expired": _("Expired"), "pending": _("Pending")}[obj.state]


class KeyResultInline(ReadOnlyInline):
    model = KeyResult
    fields = ["title", "start_value", "current_value", "target_value", "unit"]
    readonly_fields = fields


class GoalCheckInInline(ReadOnlyInline):
    model = GoalCheckIn
    fields = ["created_at", "progress", "confidence", "status", "note"]
    readonly_fields = fields


class SharedGoalsOnlyMixin:
    def get_queryset(self, request):
        # A private goal is its mentor's alone: the admin never lists or opens it.
        return super().get_queryset(request).filter(visibility=DevelopmentGoal.Visibility.SHARED)


@admin.register(DevelopmentGoal)
class DevelopmentGoalAdmin(SharedGoalsOnlyMixin, TenantAdmin):
    """Goals mentors shared with the program team. Mentors edit them in the portal."""

    list_display = ["title", "mentor", "status", "progress_display", "target_date", "updated_at"]
    list_filter = ["status", MentorListFilter]
    search_fields = ["title", "mentor__user__name"]
    fields = ["mentor", "title", "why_it_matters", "target_date", "status", "checkin_cadence_days", "progress_display"]
    readonly_fields = fields
    inlines = [KeyResultInline, GoalCheckInInline]
    ordering = ["mentor_id", "target_date", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("mentor__user").prefetch_related("key_results")

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("progress"))
    def progress_display(self, obj: DevelopmentGoal) -> str:
        return f"{selectors.goal_progress(obj)}%"


def _sessions_with_enough_raters(request):
    """Ids of the request's sessions whose ratings may be shown (``selectors.MIN_RATERS`` raters or more)."""
    sessions = scope_for_request(MentoringSession.objects.all(), request)
    return sessions.annotate(raters=Count("ratings")).filter(raters__gte=selectors.MIN_RATERS).values("id")


class SessionAttendanceInline(ReadOnlyInline):
    model = SessionAttendance
    fields = ["enrollment"]
    readonly_fields = fields
    verbose_name = _("mentee present")
    verbose_name_plural = _("mentees present")


class SessionRatingInline(ReadOnlyInline):
    """Scores and comments; who gave them is not shown, as for the mentor."""

    model = SessionRating
    fields = ["score", "comment"]
    readonly_fields = fields
    verbose_name_plural = _("ratings (shown from 3 raters on, so that nobody can be recognised)")

    def get_queryset(self, request):
        # With fewer raters, the mentees present beside the ratings would say whose rating it is.
        enough = _sessions_with_enough_raters(request)
        return super().get_queryset(request).filter(session__in=enough).order_by("score", "comment")


@admin.register(MentoringSession)
class MentoringSessionAdmin(TenantAdmin):
    """Session activity, read-only: mentors log sessions in the portal."""

    list_display = ["held_on", "mentor", "duration_minutes", "topics", "attendee_count", "rating_display"]
    list_filter = [MentorListFilter, "held_on"]
    search_fields = ["topics", "mentor__user__name"]
    date_hierarchy = "held_on"
    fields = ["mentor", "held_on", "duration_minutes", "topics", "notes", "next_steps"]
    readonly_fields = fields
    inlines = [SessionAttendanceInline, SessionRatingInline]
    ordering = ["-held_on", "-id"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("mentor__user")
            .annotate(
                attendees_total=Count("attendance", distinct=True),
                ratings_average=Avg("ratings__score"),
                ratings_total=Count("ratings", distinct=True),
            )
        )

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("mentees present"), ordering="attendees_total")
    def attendee_count(self, obj: MentoringSession) -> int:
        return obj.attendees_total

    @admin.display(description=_("rating"), ordering="ratings_average")
    def rating_display(self, obj: MentoringSession) -> str:
        if obj.ratings_total < selectors.MIN_RATERS:
            return "–"  # too few raters to stay anonymous
        return f"{obj.ratings_average:.1f} ({obj.ratings_total})"


@admin.register(RunMentoringEssentials)
class RunMentoringEssentialsAdmin(TenantAdmin):
    """What every mentor of a run must do; each mentor adds their own approach beside it."""

    list_display = ["run", "essentials_preview", "approaches_link"]
    list_select_related = ["run"]
    fields = ["run", "essentials"]
    ordering = ["-run__starts_on", "id"]

    @admin.display(description=_("essentials"))
    def essentials_preview(self, obj: RunMentoringEssentials) -> str:
        first = obj.essentials.strip().splitlines()
        return first[0] + (" …" if len(first) > 1 else "") if first else ""

    @admin.display(description=_("mentors' approaches"))
    def approaches_link(self, obj: RunMentoringEssentials) -> str:
        url = reverse("admin:mentors_mentoringapproach_changelist") + f"?run__id__exact={obj.run_id}"
        return format_html('<a href="{}">{}</a>', url, _("See the approaches"))


@admin.register(MentoringApproach)
class MentoringApproachAdmin(TenantAdmin):
    """Each mentor's own approach per run, as they described it in the portal (read-only)."""

    list_display = ["mentor", "run", "format", "cadence"]
    list_filter = ["run"]
    list_select_related = ["mentor__user", "run"]
    fields = ["mentor", "run", "format", "cadence", "focus"]
    readonly_fields = fields
    ordering = ["run_id", "mentor_id"]

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

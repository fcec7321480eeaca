"""Milestones, progress, check-ins and help requests with their replies."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin_base import LargeChangeListMixin, TenantAdmin, TenantInline
from programs import services
from programs.admin.base import (
    duration_label,
)
from programs.models import (
    CheckIn,
    HelpRequest,
    HelpRequestReply,
    Milestone,
    MilestoneProgress,
)


@admin.register(Milestone)
class MilestoneAdmin(LargeChangeListMixin, TenantAdmin):
    list_display = ["name", "run", "d_minus", "due_on", "completed_at"]
    list_filter = ["run"]
    list_select_related = ["run"]
    search_fields = ["name", "deliverable"]
    readonly_fields = ["completed_at"]
    actions = ["mark_completed"]
    create_service = services.milestone_create
    update_service = services.milestone_update

    @admin.display(description="D-n", ordering="days_before_deadline")
    def d_minus(self, obj):
        return f"D-{obj.days_before_deadline}"

    @admin.action(description=_("Mark selected milestones completed"))
    def mark_completed(self, request, queryset):
        for milestone in queryset:
            services.milestone_complete(organization=milestone.organization, milestone=milestone)
        messages.success(request, gettext("Milestones marked completed."))


@admin.register(MilestoneProgress)
class MilestoneProgressAdmin(LargeChangeListMixin, TenantAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["enrollment", "milestone", "status", "evidence_url", "updated_at"]
    list_filter = ["status", "milestone__run"]
    list_select_related = ["enrollment__participant", "enrollment__team", "milestone"]
    search_fields = ["enrollment__participant__name", "milestone__name", "note"]
    autocomplete_fields = ["enrollment"]


@admin.register(CheckIn)
class CheckInAdmin(LargeChangeListMixin, TenantAdmin):
    list_display = ["enrollment", "created_at", "confidence", "has_blockers"]
    list_filter = ["confidence", "enrollment__run"]
    list_select_related = ["enrollment__participant", "enrollment__team"]
    search_fields = ["done", "next", "blockers", "enrollment__participant__name"]
    autocomplete_fields = ["enrollment"]
    date_hierarchy = "created_at"

    @admin.display(description=_("blockers"), boolean=True)
    def has_blockers(self, obj):
        return bool(obj.blockers.strip())

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        saved = services.check_in_create(
            organization=obj.enrollment.organization,
            enrollment=obj.enrollment,
            done=obj.done,
            next=obj.next,
            blockers=obj.blockers,
            confidence=obj.confidence,
        )
        obj.pk, obj.organization_id, obj.created_at = saved.pk, saved.organization_id, saved.created_at


class HelpRequestReplyInline(TenantInline):
    """The replies so far: part of the record, read-only."""

    model = HelpRequestReply
    fields = ["created_at", "mentor", "author", "body"]
    readonly_fields = fields
    can_delete = False
    max_num = 0
    verbose_name_plural = _("replies")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("mentor__user", "author")


class HelpRequestNewReplyInline(TenantInline):
    """A new reply from the program manager; it counts as a response like a mentor's."""

    model = HelpRequestReply
    fields = ["body"]
    extra = 1
    max_num = 1
    can_delete = False
    verbose_name = _("new reply")
    verbose_name_plural = _("new reply")

    def get_queryset(self, request):
        return super().get_queryset(request).none()


@admin.register(HelpRequest)
class HelpRequestAdmin(LargeChangeListMixin, TenantAdmin):
    list_display = ["act_short", "enrollment", "status", "age", "first_response"]
    list_filter = ["status", "enrollment__run"]
    list_select_related = ["enrollment__participant", "enrollment__team"]
    search_fields = ["act", "impact", "desired_outcome", "enrollment__participant__name"]
    autocomplete_fields = ["enrollment"]
    fields = ["enrollment", "act", "impact", "desired_outcome", "status", "first_response_at", "resolved_at"]
    readonly_fields = ["first_response_at", "resolved_at"]
    inlines = [HelpRequestReplyInline, HelpRequestNewReplyInline]
    actions = ["resolve"]

    @admin.display(description=_("act"))
    def act_short(self, obj):
        return obj.act[:60]

    @admin.display(description=_("age"), ordering="created_at")
    def age(self, obj):
        return duration_label(timezone.now() - obj.created_at)

    @admin.display(description=_("time to first response"))
    def first_response(self, obj):
        waited = obj.time_to_first_response
        return duration_label(waited) if waited is not None else "—"

    @admin.action(description=_("Mark selected help requests resolved"))
    def resolve(self, request, queryset):
        for help_request in queryset:
            services.help_request_resolve(organization=help_request.organization, help_request=help_request)
        messages.success(request, gettext("Help requests resolved."))

    def save_model(self, request, obj, form, change):
        if change:
            resolving = "status" in form.changed_data and obj.status == HelpRequest.Status.RESOLVED
            if resolving:
                obj.status = form.initial["status"]  # resolved below, through the service
            super().save_model(request, obj, form, change)
            if resolving:
                services.help_request_resolve(organization=obj.organization, help_request=obj)
            return
        saved = services.help_request_create(
            organization=obj.enrollment.organization,
            enrollment=obj.enrollment,
            act=obj.act,
            impact=obj.impact,
            desired_outcome=obj.desired_outcome,
        )
        obj.pk, obj.organization_id, obj.created_at = saved.pk, saved.organization_id, saved.created_at

    def save_formset(self, request, form, formset, change):
        if formset.model is HelpRequestReply:
            for reply in formset.save(commit=False):
                if reply.pk is None and reply.body.strip():
                    services.help_request_reply(
                        organization=form.instance.organization,
                        help_request=form.instance,
                        mentor=None,
                        author=request.user,
                        body=reply.body,
                    )
            return
        super().save_formset(request, form, formset, change)

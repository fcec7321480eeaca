"""Programs and their milestone templates."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from core.admin_base import TenantAdmin, TenantInline
from programs import services
from programs.models import (
    MilestoneTemplate,
    Program,
)


class MilestoneTemplateInline(TenantInline):
    model = MilestoneTemplate
    fields = ["name", "days_before_deadline", "deliverable"]
    create_service = services.milestone_template_create
    update_service = services.milestone_template_update
    service_object = "template"
    ordering = ["-days_before_deadline"]


@admin.register(Program)
class ProgramAdmin(TenantAdmin):
    list_display = ["name", "run_count", "template_count"]
    search_fields = ["name", "description"]
    inlines = [MilestoneTemplateInline]
    create_service = services.program_create
    update_service = services.program_update

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                run_total=Count("runs", distinct=True), template_total=Count("milestone_templates", distinct=True)
            )
        )

    @admin.display(description=_("runs"), ordering="run_total")
    def run_count(self, obj):
        return obj.run_total

    @admin.display(description=_("milestone templates"), ordering="template_total")
    def template_count(self, obj):
        return obj.template_total


@admin.register(MilestoneTemplate)
class MilestoneTemplateAdmin(TenantAdmin):
    list_display = ["name", "program", "days_before_deadline"]
    list_filter = ["program"]
    list_select_related = ["program"]
    search_fields = ["name", "deliverable"]
    ordering = ["program__name", "-days_before_deadline"]
    create_service = services.milestone_template_create
    update_service = services.milestone_template_update
    service_object = "template"

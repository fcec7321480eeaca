"""The one admin base class for tenant models."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.http import Http404, HttpResponseRedirect
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core import services
from core.models import ArchivableTenantModel, Membership, TenantModel


def active_organization(request):
    """The organization a request works in (None for a superuser without memberships)."""
    organization = getattr(request, "organization", None)
    return organization if organization else None


def active_role(request) -> int | None:
    membership = getattr(request, "membership", None)
    return membership.role if membership else None


def scope_for_request(queryset, request):
    """Scope a tenant queryset to the request's organization.

    Platform superusers see every organization's rows.
    """
    if request.user.is_superuser:
        return queryset.dangerously_all_organizations()
    organization = active_organization(request)
    if organization is None:
        return queryset.none()
    return queryset.for_organization(organization)


class TenantRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A related-field sidebar filter that lists only the active organization's rows."""

    def field_choices(self, field, request, model_admin):
        related = field.related_model
        if issubclass(related, TenantModel):
            ordering = self.field_admin_ordering(field, request, model_admin)
            queryset = scope_for_request(related._default_manager.all(), request)
            if ordering:
                queryset = queryset.order_by(*ordering)
            return [(obj.pk, str(obj)) for obj in queryset]
        return super().field_choices(field, request, model_admin)


class ArchivedListFilter(admin.SimpleListFilter):
    """Shows current rows by default; archived ones on request."""

    title = _("archived")
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return [("no", _("Current")), ("yes", _("Archived")), ("all", _("All"))]

    def choices(self, changelist):
        value = self.value() or "no"
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or "no"
        if value == "no":
            return queryset.filter(archived_at__isnull=True)
        if value == "yes":
            return queryset.filter(archived_at__isnull=False)
        return queryset


@admin.action(description=_("Archive selected rows"))
def archive_selected(modeladmin, request, queryset):
    count = 0
    for obj in queryset:
        services.record_archive(obj=obj, user=request.user)
        count += 1
    messages.success(request, ngettext("%(n)d row archived.", "%(n)d rows archived.", count) % {"n": count})


@admin.action(description=_("Restore selected rows"))
def restore_selected(modeladmin, request, queryset):
    count = 0
    for obj in queryset:
        services.record_restore(obj=obj, user=request.user)
        count += 1
    messages.success(request, ngettext("%(n)d row restored.", "%(n)d rows restored.", count) % {"n": count})


class ServiceRefused(Exception):
    """A service refused an admin save that the form had accepted; the admin rolls it back."""

    def __init__(self, error: ValidationError):
        super().__init__(error)
        self.error = error


def call_service_for_form(service, **kwargs):
    """Call a write service from an admin save; its refusal rolls the whole save back (see ServiceRefused)."""
    try:
        return service(**kwargs)
    except ValidationError as error:
        raise ServiceRefused(error) from error


def form_fields(form, instance, *, changed_only: bool, exclude: set[str] = frozenset()) -> dict:
    """The model fields a validated admin form sets, as a service's keyword arguments."""
    names = set(form.changed_data) if changed_only else set(form.cleaned_data)
    return {
        field.name: getattr(instance, field.name)
        for field in instance._meta.concrete_fields
        if field.name in names and field.name not in exclude and not field.primary_key and field.name != "organization"
    }


def adopt_saved(obj, saved) -> None:
    """Make the admin's instance the row a service saved (the admin goes on with ``obj``)."""
    if saved is obj:
        return
    for field in obj._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


class WrittenByServices:
    """Where an admin page (or inline) writes through the model's services instead of ``save()``.

    ``create_service(organization=, **fields)`` adds a row (an inline's also gets its parent by
    the foreign key's name), ``update_service(organization=, <service_object>=row, **changes)``
    changes one with the fields the form changed. Plain functions; ``None`` keeps Django's save.
    A refusal the form did not foresee rolls the whole save back and shows the service's message.
    """

    create_service = None
    update_service = None
    service_object: str | None = None  # the update service's keyword for the row (default: model name)


class TenantScopedFormMixin:
    """Limits every foreign-key and many-to-many choice to the active organization."""

    # A link typed without a scheme means https (Django 6's default, chosen now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def _scope_formfield(self, db_field, request, formfield):
        if formfield is not None and hasattr(formfield, "queryset") and issubclass(db_field.related_model, TenantModel):
            formfield.queryset = scope_for_request(formfield.queryset, request)
        return formfield

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if issubclass(db_field.related_model, TenantModel) and "queryset" not in kwargs:
            kwargs["queryset"] = scope_for_request(db_field.related_model._default_manager.all(), request)
        return self._scope_formfield(db_field, request, super().formfield_for_foreignkey(db_field, request, **kwargs))

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if issubclass(db_field.related_model, TenantModel) and "queryset" not in kwargs:
            kwargs["queryset"] = scope_for_request(db_field.related_model._default_manager.all(), request)
        return self._scope_formfield(db_field, request, super().formfield_for_manytomany(db_field, request, **kwargs))


class RolePermissionMixin:
    """Admin permissions from the membership role in the active organization.

    Viewers read; program managers and owners change. Superusers do everything.
    """

    view_role = Membership.Role.VIEWER
    change_role = Membership.Role.PROGRAM_MANAGER

    def _role_at_least(self, request, role) -> bool:
        if request.user.is_superuser:
            return True
        current = active_role(request)
        return current is not None and current >= role

    def has_module_permission(self, request):
        return self._role_at_least(request, self.view_role)

    def has_view_permission(self, request, obj=None):
        return self._role_at_least(request, self.view_role)

    def has_add_permission(self, request, *args):
        return self._role_at_least(request, self.change_role)

    def has_change_permission(self, request, obj=None):
        return self._role_at_least(request, self.change_role)

    def has_delete_permission(self, request, obj=None):
        return self._role_at_least(request, self.change_role)


class TenantInline(WrittenByServices, RolePermissionMixin, TenantScopedFormMixin, admin.TabularInline):
    """Inline for tenant models; new rows take the parent's organization on save."""

    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        organization = obj.organization if obj is not None else active_organization(request)

        class TenantFormSet(formset):
            def add_fields(self, form, index):
                super().add_fields(form, index)
                # The row id field Django adds finds posted rows with an unscoped query (the
                # guard refuses it): look them up inside the organization only.
                field = form.fields.get(self._pk_field.name)
                queryset = getattr(field, "queryset", None)
                if queryset is not None and issubclass(queryset.model, TenantModel):
                    field.queryset = (
                        queryset.for_organization(organization) if organization is not None else queryset.none()
                    )

        TenantFormSet.__name__ = formset.__name__
        return TenantFormSet

    def get_queryset(self, request):
        return scope_for_request(super().get_queryset(request), request)


class TenantStackedInline(TenantInline, admin.StackedInline):
    template = admin.StackedInline.template


class TenantAdmin(WrittenByServices, RolePermissionMixin, TenantScopedFormMixin, admin.ModelAdmin):
    """Base of every admin page for a tenant model.

    * lists and objects are scoped to the active organization; an object of another
      organization answers 404 as if it did not exist;
    * new rows get the active organization;
    * foreign-key, many-to-many and sidebar-filter choices show only that organization.
    """

    def get_queryset(self, request):
        return scope_for_request(super().get_queryset(request), request)

    @property
    def is_archivable(self) -> bool:
        return issubclass(self.model, ArchivableTenantModel)

    def has_delete_permission(self, request, obj=None):
        # Rows with history are archived, not deleted.
        return not self.is_archivable and super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.is_archivable and self.has_change_permission(request):
            for action in (archive_selected, restore_selected):
                actions[action.__name__] = (action, action.__name__, action.short_description)
        return actions

    def get_list_filter(self, request):
        scoped = [ArchivedListFilter] if self.is_archivable else []
        for item in super().get_list_filter(request):
            if isinstance(item, str):
                # A direct field or a lookup path ("enrollment__run"): its last field decides.
                try:
                    field = get_fields_from_path(self.model, item)[-1]
                except (FieldDoesNotExist, NotRelationField):
                    field = None
                if field is not None and field.is_relation and issubclass(field.related_model, TenantModel):
                    item = (item, TenantRelatedFieldListFilter)
            scoped.append(item)
        return scoped

    def _changeform_view(self, request, object_id, form_url, extra_context):
        if object_id is not None and self.get_object(request, admin.utils.unquote(object_id)) is None:
            # Another organization's object looks exactly like one that does not exist.
            raise Http404
        return super()._changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        if self.get_object(request, admin.utils.unquote(object_id)) is None:
            raise Http404
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, admin.utils.unquote(object_id))
        if obj is None:
            raise Http404
        response = super().history_view(request, object_id, extra_context)
        if getattr(response, "context_data", None) is not None:
            # The object's audit trail (core.audit) instead of the admin's own log,
            # which knows nothing of changes made through the API, tasks or imports.
            from core.audit import history_context

            can_see = self._role_at_least(request, Membership.Role.PROGRAM_MANAGER)
            response.context_data.update(history_context(request, obj, can_see=can_see))
        return response

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            # Raised inside the admin's atomic block: nothing of this save was kept.
            for message in refused.error.messages:
                messages.error(request, message)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        service = type(self).update_service if change else type(self).create_service
        organization = obj.organization if change else active_organization(request)
        if organization is None:
            raise Http404
        if service is None:
            obj.organization = organization
            super().save_model(request, obj, form, change)
            return
        target = {self.service_object or obj._meta.model_name: obj} if change else {}
        saved = call_service_for_form(
            service, organization=organization, **target, **form_fields(form, obj, changed_only=change)
        )
        adopt_saved(obj, saved)

    def save_formset(self, request, form, formset, change):
        inline = next((i for i in self.get_inline_instances(request, form.instance) if i.model is formset.model), None)
        create = getattr(type(inline), "create_service", None)
        update = getattr(type(inline), "update_service", None)
        organization = form.instance.organization
        written = set()  # the rows a service wrote; the formset saves the others
        for row in formset.forms:
            instance = row.instance
            if row in formset.deleted_forms or not row.has_changed():
                continue
            service = update if instance.pk is not None else create
            if service is None:
                continue
            if instance.pk is not None:
                target = {inline.service_object or instance._meta.model_name: instance}
            else:
                target = {formset.fk.name: form.instance}
            fields = form_fields(row, instance, changed_only=instance.pk is not None, exclude={formset.fk.name})
            adopt_saved(instance, call_service_for_form(service, organization=organization, **target, **fields))
            written.add(id(instance))
        for instance in formset.save(commit=False):
            if id(instance) in written:
                continue
            if isinstance(instance, TenantModel) and instance.organization_id is None:
                instance.organization_id = form.instance.organization_id
            instance.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        organization = obj.organization if obj is not None else active_organization(request)

        # Give the unsaved instance its organization before model validation, so that
        # clean() and unique checks that involve the organization work on create.
        class TenantForm(form):
            def _post_clean(self):
                if self.instance.organization_id is None and organization is not None:
                    self.instance.organization = organization
                super()._post_clean()

            def _get_validation_exclusions(self):
                # Unique constraints include the organization, which is not a form
                # field; validate them anyway instead of failing on save.
                exclude = super()._get_validation_exclusions()
                exclude.discard("organization")
                return exclude

        TenantForm.__name__ = form.__name__
        return TenantForm


class CappedCountPaginator(Paginator):
    """A changelist paginator that counts at most ``cap`` rows.

    Django's changelist counts every row that matches for its page links, a ``COUNT(*)`` that
    grows with the table (the outbox gains a row per message). This one asks for one row more
    than the cap (``SELECT COUNT(*) FROM (... LIMIT cap + 1)``): exact up to the cap, and beyond
    it the pages stop at the cap and ``capped`` is true, for the page to say that there are more
    (narrow the list with a filter or the search box to reach them). Model admins that use it
    also set ``show_full_result_count = False``, which drops the second, unfiltered count.
    """

    cap = 10_000

    @cached_property
    def count(self):
        counted = self.object_list.order_by()[: self.cap + 1].count()
        self.capped = counted > self.cap
        return min(counted, self.cap)

    capped = False


class LargeChangeListMixin:
    """For a model admin whose list can hold many thousands of rows: a changelist at a cost that
    does not grow with the table (one capped count, no unfiltered count), a message when more
    rows match than the pages reach, and a cheaper selection checkbox per row."""

    paginator = CappedCountPaginator
    show_full_result_count = False

    def action_checkbox(self, obj):
        # The same <input> as Django's, written directly: through the form widget's templates
        # it cost about a millisecond a row, a fifth of a page of 100.
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            format_html(gettext("Select this object for an action - {}"), str(obj)),
        )

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        paginator = getattr(changelist, "paginator", None)
        if getattr(paginator, "capped", False):
            messages.info(
                request,
                gettext(
                    "More than %(cap)s rows match: the pages list the first %(cap)s. "
                    "Narrow the list with a filter or the search box to see the others."
                )
                % {"cap": number_format(paginator.cap, force_grouping=True)},
            )
        return response

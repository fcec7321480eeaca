"""Matching in the admin: propose for a run, review side by side, accept, change, swap.

The review page is a plain view with small forms (django-oscar style) hanging off the
proposal admin, so it shares its permissions: viewers read, program managers act; another
organization's proposal answers 404. Every action calls ``matching.services``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.admin_base import TenantAdmin, active_organization
from core.forms import form_errors_from
from matching import selectors, services
from matching.models import Conflict, Preference, Proposal, ProposedPair
from matching.reasons import reason_text
from programs.models import Run
from programs.vocabulary import Area, Industry, Stage, label_of


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


class ProposeForm(forms.Form):
    run = forms.ModelChoiceField(label=gettext_lazy("Run"), queryset=Run.objects.none())

    def __init__(self, *args, organization=None, **kwargs):
        super().__init__(*args, **kwargs)
        runs = Run.objects.for_organization(organization) if organization is not None else Run.objects.none()
        self.fields["run"].queryset = runs.exclude(status=Run.Status.FINISHED).select_related("program")


@admin.register(Proposal)
class ProposalAdmin(TenantAdmin):
    list_display = ["__str__", "run", "created_by", "created_at"]
    list_filter = ["run"]
    list_select_related = ["run", "created_by"]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:object_id>/review/", view(self.review_view), name="matching_proposal_review"),
            *super().get_urls(),
        ]

    def _context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, **extra}

    def add_view(self, request, form_url="", extra_context=None):
        """Propose: choose a run; the proposal is made at once and opens for review."""
        if not self.has_add_permission(request):
            raise Http404
        organization = active_organization(request)
        if organization is None:
            raise Http404
        form = ProposeForm(request.POST or None, organization=organization)
        if request.method == "POST" and form.is_valid():
            try:
                proposal = services.proposal_create(
                    organization=organization, run=form.cleaned_data["run"], created_by=request.user
                )
            except ValidationError as error:
                form_errors_from(form, error, non_field="run")
            else:
                return HttpResponseRedirect(reverse("admin:matching_proposal_review", args=[proposal.pk]))
        return TemplateResponse(
            request,
            "admin/matching/propose.html",
            self._context(request, title=_("Propose mentors for a run"), form=form),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        proposal = self.get_object(request, admin.utils.unquote(object_id))
        if proposal is None:
            raise Http404
        return HttpResponseRedirect(reverse("admin:matching_proposal_review", args=[proposal.pk]))

    def _proposal(self, request, object_id) -> Proposal:
        if not self.has_view_permission(request):
            raise Http404
        proposal = self.get_queryset(request).filter(pk=object_id).select_related("run", "run__program").first()
        if proposal is None:
            raise Http404
        return proposal

    def review_view(self, request, object_id):
        proposal = self._proposal(request, object_id)
        organization = proposal.organization
        if request.method == "POST":
            if not self.has_change_permission(request):
                raise Http404
            self._act(request, organization, proposal)
            return HttpResponseRedirect(request.path)
        pairs = list(selectors.pairs_of_proposal(organization=organization, proposal=proposal))
        mentors = list(selectors.matchable_mentors(organization=organization))
        rows = [
            {
                "pair": pair,
                "needs": [label_of(Area, code) for code in pair.enrollment.needs or []],
                "industry": label_of(Industry, pair.enrollment.industry) if pair.enrollment.industry else "",
                "stage": label_of(Stage, pair.enrollment.stage) if pair.enrollment.stage else "",
                "reasons": [reason_text(reason) for reason in pair.reasons or []],
            }
            for pair in pairs
        ]
        pending = [pair for pair in pairs if not pair.is_accepted]
        return TemplateResponse(
            request,
            "admin/matching/review.html",
            self._context(
                request,
                title=_("Matching proposal: %(run)s") % {"run": proposal.run},
                proposal=proposal,
                rows=rows,
                mentors=mentors,
                pending=pending,
                can_change=self.has_change_permission(request),
                accepted_count=len(pairs) - len(pending),
                new_url=reverse("admin:matching_proposal_add"),
            ),
        )

    def _pair(self, organization, proposal, value) -> ProposedPair:
        try:
            return selectors.pair_get(organization=organization, proposal=proposal, pair_id=int(value))
        except (TypeError, ValueError, ProposedPair.DoesNotExist):
            raise Http404

    def _act(self, request, organization, proposal) -> None:
        action = request.POST.get("action")
        try:
            if action == "accept_all":
                accepted = services.proposal_accept_all(organization=organization, proposal=proposal)
                messages.success(
                    request, _("%(count)d pairs accepted: the mentors are assigned.") % {"count": len(accepted)}
                )
            elif action == "accept":
                pair = services.pair_accept(
                    organization=organization, pair=self._pair(organization, proposal, request.POST.get("pair"))
                )
                messages.success(
                    request,
                    _("Accepted: %(mentor)s mentors %(enrollment)s.")
                    % {"mentor": pair.mentor, "enrollment": pair.enrollment},
                )
            elif action == "change":
                pair = self._pair(organization, proposal, request.POST.get("pair"))
                mentor = (
                    selectors.matchable_mentors(organization=organization)
                    .filter(pk=_int(request.POST.get("mentor")))
                    .first()
                )
                if mentor is None:
                    raise ValidationError(_("Choose a mentor."))
                services.pair_mentor_change(organization=organization, pair=pair, mentor=mentor)
                messages.success(
                    request,
                    _("Changed: %(mentor)s for %(enrollment)s.") % {"mentor": mentor, "enrollment": pair.enrollment},
                )
            elif action == "swap":
                pair = self._pair(organization, proposal, request.POST.get("pair"))
                other = self._pair(organization, proposal, request.POST.get("other"))
                services.pairs_swap(organization=organization, pair=pair, other=other)
                messages.success(
                    request,
                    _("Swapped the mentors of %(a)s and %(b)s.") % {"a": pair.enrollment, "b": other.enrollment},
                )
            else:
                messages.error(request, _("Choose what to do."))
        except ValidationError as error:
            messages.error(request, _error_text(error))


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


@admin.register(Conflict)
class ConflictAdmin(TenantAdmin):
    list_display = ["mentor", "enrollment", "note", "created_at"]
    list_filter = ["mentor"]
    list_select_related = ["mentor__user", "enrollment__participant", "enrollment__team"]
    fields = ["mentor", "enrollment", "note"]
    autocomplete_fields = ["enrollment"]

    def save_model(self, request, obj, form, change):
        organization = obj.organization if obj.organization_id else active_organization(request)
        saved = services.conflict_mark(
            organization=organization, mentor=obj.mentor, enrollment=obj.enrollment, note=obj.note
        )
        obj.pk, obj.organization_id, obj.created_at = saved.pk, saved.organization_id, saved.created_at

    def delete_model(self, request, obj):
        services.conflict_remove(organization=obj.organization, conflict=obj)


@admin.register(Preference)
class PreferenceAdmin(TenantAdmin):
    """Stated by participants (their home link) and mentors; the program team reads them."""

    list_display = ["run", "side", "enrollment", "mentor", "rank"]
    list_filter = ["run", "side"]
    list_select_related = ["run", "mentor__user", "enrollment__participant", "enrollment__team"]

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

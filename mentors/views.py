"""The mentor portal (``/mentor/``): server-rendered pages for a mentor of the active organization.

Every page works on ``request.organization`` (chosen in the session, see
:mod:`core.middleware`) and on the logged-in user's own :class:`~mentors.models.Mentor`
row in it. Objects are fetched through selectors that take the mentor, so another
mentor's goal, a non-mentee's enrollment or another organization's anything answers
404, as if it did not exist.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import sso
from core.forms import form_errors_from
from core.links import signed_link_page
from core.middleware import ACTIVE_ORGANIZATION_SESSION_KEY
from core.models import Organization
from mentors import forms, links, selectors, services
from mentors.models import DevelopmentGoal, KeyResult, MentoringSession
from programs import services as program_services

LANGUAGE_COOKIE = "django_language"


def _base_url(request) -> str:
    return request.build_absolute_uri("/")


def mentor_required(view):
    """Logged in, with a mentor engagement in the active organization; else a clear page."""

    @wraps(view)
    @login_required(login_url=reverse_lazy("mentors:login"))
    def wrapper(request, *args, **kwargs):
        organization = request.organization if request.organization else None
        mentor = selectors.mentor_for_user(organization=organization, user=request.user)
        if mentor is None:
            engagements = list(selectors.mentor_engagements_for_user(user=request.user))
            return render(
                request,
                "mentors/not_a_mentor.html",
                {"engagements": engagements, "organization": organization},
                status=403,
            )
        request.mentor = mentor
        return view(request, *args, **kwargs)

    return wrapper


# --- Logging in and out, switching organizations -----------------------------------------------


class PortalLoginView(auth_views.LoginView):
    template_name = "mentors/login.html"
    authentication_form = forms.PortalLoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return reverse("mentors:home")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # "Sign in with Google / Kakao / Naver" (core/sso.py): back to where the person was going.
        context["sso_providers"] = sso.configured_providers(self.request, next_url=self.get_success_url())
        return context

    def render_to_response(self, context, **kwargs):
        return sso.allow_provider_forms(super().render_to_response(context, **kwargs), context["sso_providers"])

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        # Land in an organization the person mentors for, not merely belongs to.
        engagements = list(selectors.mentor_engagements_for_user(user=user))
        active_id = self.request.session.get(ACTIVE_ORGANIZATION_SESSION_KEY)
        if engagements and active_id not in {m.organization_id for m in engagements}:
            self.request.session[ACTIVE_ORGANIZATION_SESSION_KEY] = engagements[0].organization_id
        response.set_cookie(LANGUAGE_COOKIE, user.language, samesite="Lax")
        return response


class PortalLogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("mentors:login")


@login_required(login_url=reverse_lazy("mentors:login"))
@require_POST
def organization_switch(request):
    """Make another organization the mentor works for the active one."""
    form = forms.OrganizationSwitchForm(request.POST)
    if form.is_valid():
        wanted = form.cleaned_data["organization"]
        engagements = selectors.mentor_engagements_for_user(user=request.user)
        if any(m.organization_id == wanted for m in engagements):
            request.session[ACTIVE_ORGANIZATION_SESSION_KEY] = wanted
        else:
            messages.error(request, _("You do not mentor for that organization."))
    return redirect("mentors:home")


# --- Home and profile ---------------------------------------------------------------------------


@mentor_required
def home(request):
    organization, mentor = request.organization, request.mentor
    goals = list(selectors.goals_for_mentor(organization=organization, mentor=mentor))
    for goal in goals:
        goal.progress = selectors.goal_progress(goal)
    mentees = list(selectors.mentee_enrollments(organization=organization, mentor=mentor))
    open_requests = list(selectors.open_help_requests(organization=organization, mentor=mentor))
    context = {
        "goals": goals,
        "mentees": mentees,
        "open_requests": open_requests,
        "recent_sessions": list(selectors.sessions_for_mentor(organization=organization, mentor=mentor)[:3]),
        "rating": selectors.mentor_rating_summary(organization=organization, mentor=mentor),
        "runs": list(selectors.runs_for_mentor(organization=organization, mentor=mentor).order_by("-starts_on")),
    }
    return render(request, "mentors/home.html", context)


@mentor_required
def profile(request):
    form = forms.ProfileForm(request.POST or None, instance=request.mentor)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.mentor_profile_update(
                    organization=request.organization,
                    mentor=request.mentor,
                    **{name: form.cleaned_data[name] for name in services.PROFILE_FIELDS},
                )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("mentors:profile")
    return render(request, "mentors/profile.html", {"form": form})


# --- Goals -----------------------------------------------------------------------------------


def _own_goal(request, goal_id: int) -> DevelopmentGoal:
    try:
        return selectors.goal_for_mentor(organization=request.organization, mentor=request.mentor, goal_id=goal_id)
    except DevelopmentGoal.DoesNotExist:
        raise Http404


@mentor_required
def goal_list(request):
    show_archived = request.GET.get("archived") == "1"
    goals = list(
        selectors.goals_for_mentor(
            organization=request.organization, mentor=request.mentor, include_archived=show_archived
        )
    )
    for goal in goals:
        goal.progress = selectors.goal_progress(goal)
    return render(request, "mentors/goal_list.html", {"goals": goals, "show_archived": show_archived})


def _key_result_formset(request, goal: DevelopmentGoal | None):
    queryset = KeyResult.objects.for_organization(request.organization)
    queryset = queryset.filter(goal=goal).order_by("id") if goal else queryset.none()
    return forms.KeyResultFormSet(request.POST or None, queryset=queryset, prefix="kr")


@mentor_required
def goal_create(request):
    form = forms.GoalForm(request.POST or None)
    formset = _key_result_formset(request, None)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        key_results = [
            {name: f.cleaned_data[name] for name in ("title", "start_value", "target_value", "unit")}
            for f in formset.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        try:
            goal = services.goal_create(
                organization=request.organization, mentor=request.mentor, key_results=key_results, **form.cleaned_data
            )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Goal created. Check in whenever you make progress."))
            return redirect("mentors:goal_detail", goal_id=goal.pk)
    return render(request, "mentors/goal_form.html", {"form": form, "formset": formset, "goal": None})


@mentor_required
def goal_edit(request, goal_id: int):
    goal = _own_goal(request, goal_id)
    if goal.is_archived:
        messages.error(request, _("This goal is archived. Restore it before changing it or checking in."))
        return redirect("mentors:goal_detail", goal_id=goal.pk)
    form = forms.GoalForm(request.POST or None, instance=goal)
    formset = _key_result_formset(request, goal)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            # One unit: a bad key result leaves the goal unchanged too.
            with transaction.atomic():
                fields = {name: form.cleaned_data[name] for name in services.GOAL_FIELDS}
                services.goal_update(organization=request.organization, goal=goal, **fields)
                _save_key_results(request, goal, formset)
        except ValidationError as error:
            goal.refresh_from_db()
            form_errors_from(form, error)
        else:
            messages.success(request, _("Goal saved."))
            return redirect("mentors:goal_detail", goal_id=goal.pk)
    return render(request, "mentors/goal_form.html", {"form": form, "formset": formset, "goal": goal})


def _save_key_results(request, goal: DevelopmentGoal, formset) -> None:
    organization = request.organization
    for kr_form in formset.forms:
        data = kr_form.cleaned_data
        if not data:
            continue
        existing = data.get("id")
        if existing is not None and existing.goal_id != goal.pk:
            raise Http404
        if data.get("DELETE"):
            if existing is not None:
                services.key_result_remove(organization=organization, key_result=existing)
            continue
        fields = {name: data[name] for name in ("title", "start_value", "target_value", "unit")}
        if existing is not None:
            services.key_result_update(organization=organization, key_result=existing, **fields)
        else:
            services.key_result_add(organization=organization, goal=goal, **fields)


@mentor_required
def goal_detail(request, goal_id: int):
    goal = _own_goal(request, goal_id)
    goal.progress = selectors.goal_progress(goal)
    check_ins = list(selectors.goal_check_ins(organization=request.organization, goal=goal))
    context = {
        "goal": goal,
        "key_results": list(goal.key_results.all()),
        "check_ins": list(reversed(check_ins)),
        "chart": selectors.goal_progress_chart(organization=request.organization, goal=goal),
    }
    return render(request, "mentors/goal_detail.html", context)


@mentor_required
def goal_check_in(request, goal_id: int):
    goal = _own_goal(request, goal_id)
    if goal.is_archived:
        messages.error(request, _("This goal is archived. Restore it before changing it or checking in."))
        return redirect("mentors:goal_detail", goal_id=goal.pk)
    key_results = list(goal.key_results.all())
    form = forms.GoalCheckInForm(request.POST or None, goal=goal, key_results=key_results)
    if request.method == "POST" and form.is_valid():
        try:
            services.goal_check_in(
                organization=request.organization,
                goal=goal,
                values=form.key_result_values(),
                confidence=form.cleaned_data["confidence"],
                note=form.cleaned_data["note"],
                status=form.cleaned_data["status"],
            )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Check-in saved."))
            return redirect("mentors:goal_detail", goal_id=goal.pk)
    return render(request, "mentors/goal_check_in.html", {"goal": goal, "form": form})


@mentor_required
@require_POST
def goal_archive(request, goal_id: int):
    goal = _own_goal(request, goal_id)
    services.goal_archive(organization=request.organization, goal=goal, user=request.user)
    messages.success(request, _("Goal archived. You can restore it from the archived goals."))
    return redirect("mentors:goal_list")


@mentor_required
@require_POST
def goal_restore(request, goal_id: int):
    goal = _own_goal(request, goal_id)
    services.goal_restore(organization=request.organization, goal=goal, user=request.user)
    messages.success(request, _("Goal restored."))
    return redirect("mentors:goal_detail", goal_id=goal.pk)


# --- Mentees and help requests ----------------------------------------------------------------


@mentor_required
def mentee_list(request):
    organization, mentor = request.organization, request.mentor
    context = {
        "mentees": list(selectors.mentee_enrollments(organization=organization, mentor=mentor)),
        "open_requests": list(selectors.open_help_requests(organization=organization, mentor=mentor)),
        "reply_form": forms.HelpRequestReplyForm(),
    }
    return render(request, "mentors/mentee_list.html", context)


@mentor_required
def mentee_detail(request, enrollment_id: int):
    organization, mentor = request.organization, request.mentor
    enrollment = selectors.mentee_enrollments(organization=organization, mentor=mentor).filter(pk=enrollment_id).first()
    if enrollment is None:
        raise Http404
    context = {
        "enrollment": enrollment,
        "milestones": selectors.mentee_milestones(organization=organization, enrollment=enrollment),
        "check_ins": list(selectors.mentee_latest_check_ins(organization=organization, enrollment=enrollment)),
        "open_requests": [
            r
            for r in selectors.open_help_requests(organization=organization, mentor=mentor)
            if r.enrollment_id == enrollment.pk
        ],
        "reply_form": forms.HelpRequestReplyForm(),
    }
    return render(request, "mentors/mentee_detail.html", context)


@mentor_required
@require_POST
def help_request_reply(request, help_request_id: int):
    """Answer a help request routed to the mentor; records the first response time."""
    organization, mentor = request.organization, request.mentor
    help_request = selectors.help_request_for_mentor(
        organization=organization, mentor=mentor, help_request_id=help_request_id
    )
    if help_request is None:
        raise Http404
    form = forms.HelpRequestReplyForm(request.POST)
    nxt = request.POST.get("next") or ""
    target = nxt if url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}) else None
    if form.is_valid():
        try:
            program_services.help_request_reply(
                organization=organization,
                help_request=help_request,
                mentor=mentor,
                author=request.user,
                body=form.cleaned_data["body"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Reply sent. The founder will see it with their request."))
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return HttpResponseRedirect(target or reverse("mentors:mentee_list"))


# --- Mentoring approach per run ------------------------------------------------------------------


@mentor_required
def approach_edit(request, run_id: int):
    organization, mentor = request.organization, request.mentor
    run = selectors.runs_for_mentor(organization=organization, mentor=mentor).filter(pk=run_id).first()
    if run is None:
        raise Http404
    approach = selectors.approach_for_run(organization=organization, mentor=mentor, run=run)
    initial = {"format": approach.format, "cadence": approach.cadence, "focus": approach.focus} if approach else {}
    form = forms.ApproachForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.approach_save(organization=organization, mentor=mentor, run=run, **form.cleaned_data)
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Your approach for this run is saved."))
            return redirect("mentors:home")
    essentials = selectors.essentials_for_run(organization=organization, run=run)
    context = {
        "run": run,
        "form": form,
        "essentials": [line.strip() for line in essentials.essentials.splitlines() if line.strip()]
        if essentials
        else [],
    }
    return render(request, "mentors/approach_form.html", context)


# --- Sessions -------------------------------------------------------------------------------------


@mentor_required
def session_list(request):
    organization, mentor = request.organization, request.mentor
    context = {
        "sessions": list(selectors.sessions_for_mentor(organization=organization, mentor=mentor)),
        "ratings": selectors.session_ratings_for_mentor(organization=organization, mentor=mentor),
        "rating": selectors.mentor_rating_summary(organization=organization, mentor=mentor),
        "min_raters": selectors.MIN_RATERS,
    }
    return render(request, "mentors/session_list.html", context)


@mentor_required
def session_create(request):
    organization, mentor = request.organization, request.mentor
    mentees = selectors.mentee_enrollments(organization=organization, mentor=mentor)
    form = forms.SessionForm(request.POST or None, mentees=mentees)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        attendees = list(data.pop("attendees"))
        try:
            session = services.session_log(
                organization=organization, mentor=mentor, attendees=attendees, base_url=_base_url(request), **data
            )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Session logged. The mentees present are asked to rate it."))
            return redirect("mentors:session_detail", session_id=session.pk)
    return render(request, "mentors/session_form.html", {"form": form})


@mentor_required
def session_detail(request, session_id: int):
    try:
        session = selectors.session_for_mentor(
            organization=request.organization, mentor=request.mentor, session_id=session_id
        )
    except MentoringSession.DoesNotExist:
        raise Http404
    return render(request, "mentors/session_detail.html", {"session": session, "min_raters": selectors.MIN_RATERS})


# --- Links that work without an account: invitations and session ratings -------------------------


def invitation_accept(request, org_slug: str, token: str):
    """Accept an invitation: set a password, or join with the account one is logged in with."""
    organization = Organization.objects.filter(slug=org_slug).first()
    invitation = (
        selectors.invitation_for_token(organization=organization, token=token) if organization is not None else None
    )
    try:
        services.invitation_check(invitation=invitation)
    except services.InvitationError as error:
        return render(
            request,
            "mentors/invitation_invalid.html",
            {"message": error.messages[0], "code": error.code},
            status=404 if error.code == "invalid" else 410,
        )
    # A first visit speaks the invitee's language; a language the visitor chose wins.
    language = request.COOKIES.get(LANGUAGE_COOKIE) or invitation.language
    with translation.override(language):
        return _invitation_accept_page(request, organization, invitation, token)


def _invitation_accept_page(request, organization, invitation, token: str):
    user = request.user if request.user.is_authenticated else None
    account_exists = user is None and selectors.user_exists(email=invitation.email)
    form = forms.InvitationAcceptForm(request.POST or None, initial={"name": invitation.name})
    if request.method == "POST" and (user is not None or form.is_valid()):
        try:
            with transaction.atomic():
                mentor = services.invitation_accept(
                    organization=organization,
                    token=token,
                    user=user,
                    name=form.cleaned_data.get("name", "") if user is None else "",
                    password=form.cleaned_data.get("password1", "") if user is None else "",
                )
        except ValidationError as error:  # InvitationError too
            form_errors_from(form, error, field_map={"password": "password1"})
        else:
            if user is None:
                login(request, mentor.user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[ACTIVE_ORGANIZATION_SESSION_KEY] = organization.pk
            messages.success(
                request, _("Welcome! You now mentor for %(organization)s.") % {"organization": organization.name}
            )
            response = redirect("mentors:profile")
            response.set_cookie(LANGUAGE_COOKIE, mentor.user.language, samesite="Lax")
            return response
    sso_providers = []
    if user is None and not account_exists:
        # The invitee may create their account by signing in with Google/Kakao/Naver with this
        # address (core/sso.py); back here signed in, they accept as the logged-in user.
        sso.signup_allow(request, email=invitation.email)
        sso_providers = sso.configured_providers(request, next_url=request.path)
    context = {
        "invitation": invitation,
        "organization": organization,
        "form": form,
        "account_exists": account_exists,
        "sso_providers": sso_providers,
        "login_url": f"{reverse('mentors:login')}?next={request.path}",
    }
    return sso.allow_provider_forms(render(request, "mentors/invitation_accept.html", context), sso_providers)


@signed_link_page(links.session_rating_token_read)
def session_rate(request, token: str):
    """A mentee rates a session through the signed link they were sent (no login)."""
    found = selectors.session_and_participant_for_rating_token(token=token)
    if found is None:
        return render(request, "mentors/rating_invalid.html", status=404)
    session, participant = found
    # Mentees have no account: the page speaks the language the program knows them in.
    with translation.override(participant.language):
        return _session_rate_page(request, session, participant)


def _session_rate_page(request, session, participant):
    form = forms.SessionRatingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.session_rate(
                organization=session.organization,
                session=session,
                participant=participant,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"].strip(),
            )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            return render(request, "mentors/rating_thanks.html", {"session": session})
    return render(request, "mentors/rating_form.html", {"session": session, "form": form, "participant": participant})

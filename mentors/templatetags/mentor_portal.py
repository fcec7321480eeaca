"""Template tags of the mentor portal's base template (usable by other apps' portal pages)."""

from django import template
from django.urls import NoReverseMatch, reverse

from mentors import selectors

register = template.Library()


@register.simple_tag
def optional_url(name: str, *args, **kwargs) -> str:
    """The URL of ``name``, or "" when no such URL exists (yet).

    Lets the portal link to pages of apps that may not be installed, such as the
    assessments app's mentor pages, without failing when they are missing.
    """
    try:
        return reverse(name, args=args, kwargs=kwargs)
    except NoReverseMatch:
        return ""


@register.simple_tag(takes_context=True)
def portal_engagements(context) -> list:
    """The organizations the logged-in user mentors for (for the organization switcher)."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return []
    return list(selectors.mentor_engagements_for_user(user=request.user))


@register.filter
def percent_width(value) -> str:
    """A progress value (0-100) as a CSS width, clamped."""
    try:
        number = max(0.0, min(100.0, float(value)))
    except (TypeError, ValueError):
        number = 0.0
    return f"{number:.0f}%"

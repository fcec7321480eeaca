from core import selectors


def organization(request):
    """The active organization and the user's other organizations, for the switcher."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = getattr(request, "membership", None)
    return {
        "active_membership": membership if membership else None,
        "user_memberships": lambda: selectors.memberships_for_user(user=user),
    }

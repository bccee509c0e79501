"""Template context every page needs: the signed-in user's organisation and roles, and the
roles they cannot act in until they enrol in two-factor authentication."""

from portal import list_cache, mfa


def membership(request) -> dict:
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {"current_membership": None, "roles_awaiting_mfa": []}
    return {
        "current_membership": getattr(user, "membership", None),
        "roles_awaiting_mfa": [mfa.role_label(r) for r in mfa.roles_awaiting_enrolment(user)],
    }


def page_holes(request) -> dict:
    """While a page to keep is rendered, its form token is a hole filled in per request
    (portal.list_cache); this processor comes after Django's, which it replaces then."""
    return {"csrf_token": list_cache.hole("csrf")} if list_cache.building_page() else {}

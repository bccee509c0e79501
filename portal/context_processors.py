"""Template context every page needs: the signed-in user's organisation and roles, and the
roles they cannot act in until they enrol in two-factor authentication."""

from portal import mfa


def membership(request) -> dict:
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {"current_membership": None, "unread_notifications": 0, "roles_awaiting_mfa": []}
    return {
        "current_membership": getattr(user, "membership", None),
        "unread_notifications": user.notifications.filter(read_at__isnull=True).count(),
        "roles_awaiting_mfa": [mfa.role_label(r) for r in mfa.roles_awaiting_enrolment(user)],
    }

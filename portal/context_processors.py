"""Template context every page needs: the signed-in user's organisation and roles."""


def membership(request) -> dict:
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {"current_membership": None, "unread_notifications": 0}
    return {
        "current_membership": getattr(user, "membership", None),
        "unread_notifications": user.notifications.filter(read_at__isnull=True).count(),
    }

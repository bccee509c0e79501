"""Template context every page needs: the signed-in user's organisation and roles."""


def membership(request) -> dict:
    user = getattr(request, "user", None)
    member = getattr(user, "membership", None) if user and user.is_authenticated else None
    return {"current_membership": member}

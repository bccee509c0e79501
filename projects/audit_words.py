"""How projects' audit events read (portal.audit_words), and what deactivating a person
ends here: their reviewer assignments' access and their calendar feed."""

from django.utils.translation import gettext, gettext_lazy, ngettext

from portal import access
from portal.audit_words import register, register_reference
from portal.invitations import describe_named_grants_of, register_deactivation_effect
from projects.models import (
    CalendarFeed,
    ParticipantRole,
    Project,
    ReviewDecision,
    ReviewerAssignment,
)


@register("project.created")
def _created(w, e):
    return w.say(
        gettext("%(actor)s created %(object)s under %(agreement)s."),
        actor=w.actor(e),
        object=w.object(e),
        agreement=w.reference("agreement", w.details(e).get("agreement", "")),
    )


@register("project.participant_added")
def _participant_added(w, e):
    details = w.details(e)
    role = details.get("role", "")
    return w.say(
        gettext("%(actor)s added %(participant)s to %(object)s as %(role)s."),
        actor=w.actor(e),
        participant=w.reference("participant", details.get("participant", "")),
        object=w.object(e),
        role=str(ParticipantRole(role).label).lower() if role in ParticipantRole.values else role,
    )


@register("project.participant_removed")
def _participant_removed(w, e):
    return w.say(
        gettext("%(actor)s removed %(participant)s from %(object)s."),
        actor=w.actor(e),
        participant=w.reference("participant", w.details(e).get("participant", "")),
        object=w.object(e),
    )


@register("project.reviewer_assigned")
def _reviewer_assigned(w, e):
    return w.say(
        gettext("%(actor)s made %(reviewer)s a reviewer of %(object)s."),
        actor=w.actor(e),
        reviewer=w.person(w.details(e).get("reviewer", "")),
        object=w.object(e),
    )


@register("project.reviewer_unassigned")
def _reviewer_unassigned(w, e):
    return w.say(
        gettext("%(actor)s removed %(reviewer)s from the reviewers of %(object)s."),
        actor=w.actor(e),
        reviewer=w.person(w.details(e).get("reviewer", "")),
        object=w.object(e),
    )


_STATUS = {
    "project.updated": gettext_lazy("%(actor)s edited %(object)s."),
    "project.activated": gettext_lazy("%(actor)s started %(object)s; its baseline is frozen."),
    "project.suspended": gettext_lazy("%(actor)s suspended %(object)s: %(reason)s"),
    "project.active": gettext_lazy("%(actor)s resumed %(object)s."),
    "project.completed": gettext_lazy("%(actor)s completed %(object)s."),
    "project.cancelled": gettext_lazy("%(actor)s cancelled %(object)s: %(reason)s"),
    "project.inject_added": gettext_lazy("%(actor)s added an inject to %(object)s."),
}


def _status(w, e):
    return w.say(
        str(_STATUS[e.action]),
        actor=w.actor(e),
        object=w.object(e),
        reason=w.details(e).get("reason") or gettext("no reason given."),
    )


for _action in _STATUS:
    register(_action)(_status)


@register("project.work_package_added")
def _work_package_added(w, e):
    details = w.details(e)
    return w.say(
        gettext("%(actor)s added work package WP%(number)s “%(title)s” to %(object)s."),
        actor=w.actor(e),
        number=str(details.get("number", "")),
        title=details.get("title", ""),
        object=w.object(e),
    )


@register("project.milestone_added")
def _milestone_added(w, e):
    return w.say(
        gettext("%(actor)s added milestone %(code)s to %(object)s."),
        actor=w.actor(e),
        code=w.details(e).get("code", ""),
        object=w.object(e),
    )


@register("project.deliverable_added")
def _deliverable_added(w, e):
    return w.say(
        gettext("%(actor)s added deliverable %(code)s to %(object)s."),
        actor=w.actor(e),
        code=w.details(e).get("code", ""),
        object=w.object(e),
    )


@register("project.date_changed")
def _date_changed(w, e):
    details = w.details(e)
    return w.say(
        gettext("%(actor)s moved %(item)s from %(old)s to %(new)s: %(reason)s"),
        actor=w.actor(e),
        item=details.get("item", ""),
        old=str(details.get("old", "")),
        new=str(details.get("new", "")),
        reason=details.get("reason") or gettext("no reason given."),
    )


@register("project.item_submitted")
def _item_submitted(w, e):
    return w.say(
        gettext("%(actor)s submitted %(item)s of %(object)s for review."),
        actor=w.actor(e),
        item=w.details(e).get("item", ""),
        object=w.object(e),
    )


@register("project.item_reviewed")
def _item_reviewed(w, e):
    details = w.details(e)
    if details.get("decision") == ReviewDecision.ACCEPT:
        template = gettext("%(actor)s accepted %(item)s of %(object)s.")
    else:
        template = gettext("%(actor)s asked for changes to %(item)s of %(object)s.")
    return w.say(template, actor=w.actor(e), item=details.get("item", ""), object=w.object(e))


@register("project.contribution_added")
def _contribution_added(w, e):
    details = w.details(e)
    return w.say(
        gettext("%(actor)s recorded a contribution of %(amount)s %(unit)s by %(participant)s."),
        actor=w.actor(e),
        amount=str(details.get("amount", "")),
        unit=details.get("unit", ""),
        participant=w.reference("participant", details.get("participant", "")),
    )


@register("project.agreement_carried_over")
def _carried_over(w, e):
    return w.say(
        gettext("%(object)s now runs under the amendment %(agreement)s."),
        object=w.object(e),
        agreement=w.reference("agreement", w.details(e).get("agreement", "")),
    )


_FEED = {
    "calendar_feed.created": gettext_lazy("%(actor)s created their calendar feed address."),
    "calendar_feed.rotated": gettext_lazy(
        "%(actor)s replaced their calendar feed address; the old one stopped working."
    ),
    "calendar_feed.revoked": gettext_lazy("%(actor)s removed their calendar feed address."),
    "calendar_feed.refused": gettext_lazy(
        "A calendar application was refused the feed of %(object)s."
    ),
}


def _feed(w, e):
    return w.say(str(_FEED[e.action]), actor=w.actor(e), object=w.object(e))


for _action in _FEED:
    register(_action)(_feed)


# --- What deactivation ends ---------------------------------------------------------------------


def _reviews_and_feed(user) -> list[str]:
    said = []
    reviews = ReviewerAssignment.objects.filter(user=user).values("project").distinct().count()
    if reviews:
        said.append(
            ngettext(
                "Their reviewer assignment on %(count)d project stops giving them access.",
                "Their reviewer assignments on %(count)d projects stop giving them access.",
                reviews,
            )
            % {"count": reviews}
        )
    if CalendarFeed.objects.filter(user=user).exists():
        said.append(gettext("Their calendar feed address stops answering."))
    return said


register_deactivation_effect(_reviews_and_feed)
describe_named_grants_of(Project)


def _projects(reader, acronyms: set[str]) -> dict[str, tuple[str, str]]:
    """Projects by acronym that reader may see, in one query."""
    found = access.visible_to(reader, Project.objects.filter(acronym__in=acronyms)).only(
        "pk", "acronym"
    )
    return {p.acronym: (p.acronym, p.get_absolute_url()) for p in found}


register_reference("project", _projects, "project")


@register("resource.review_access_granted")
def _review_access_granted(w, e):
    details = w.details(e)
    if details.get("named_users"):
        return w.say(
            gettext(
                "%(actor)s let %(people)s, by name, open %(object)s to review %(project)s %(item)s."
            ),
            actor=w.actor(e),
            people=w.people(details["named_users"]),
            object=w.object(e),
            project=w.reference("project", details.get("project", "")),
            item=str(details.get("item", "")),
        )
    return w.say(
        gettext("%(actor)s let the reviewers of %(project)s %(item)s open %(object)s."),
        actor=w.actor(e),
        object=w.object(e),
        project=w.reference("project", details.get("project", "")),
        item=str(details.get("item", "")),
    )


@register("resource.review_access_ended")
def _review_access_ended(w, e):
    return w.say(
        gettext("%(actor)s ended the access of the reviewers of %(project)s to %(object)s."),
        actor=w.actor(e),
        object=w.object(e),
        project=w.reference("project", w.details(e).get("project", "")),
    )

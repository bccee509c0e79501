"""Audit events in words: "Maria Tamm changed Kadri Kask's roles: added Programme manager".

One describer for every place a person reads the trail: the organisation's audit log, its
CSV export and each object's history (templates/components/timeline.html). Each app says how
its own actions read in its `audit_words.py` (found like admin modules, when the portal
starts), so the apps keep depending one way only: portal <- agreements <- resources <-
projects <- intel. An action nobody phrased reads as a plain generic sentence; a phrase that
fails falls back to it too, so a page never breaks on an event.

What a sentence may show is what the reader may see:
- the event's object is named and linked only when `access.visible_to` finds it for the
  reader (the same answer as `access.can(reader, "view", obj)`, asked once per object type
  for the whole page), and a hidden object is "an agreement you cannot see", never its title;
- other things an event names (a partner, an agreement by its reference, a person by
  username) are resolved in bulk by kind, each kind with its own rule: organisations are the
  public directory, an agreement is named only to its parties' people, and a person is named
  by full name only to those who may see their organisation's member list (by username,
  as the trail records them, otherwise).

So a page costs a fixed number of queries however many events it shows.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Model
from django.urls import reverse
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.module_loading import autodiscover_modules
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_lazy, ngettext

from portal import access, audit, list_cache
from portal.models import AuditEvent, Membership, Organisation, Role

logger = logging.getLogger(__name__)

Describe = Callable[["Words", AuditEvent], str]


@dataclass(frozen=True)
class Phrase:
    """How one action reads. `fold` makes the reader's own events of it one line."""

    describe: Describe
    #: Given how many times, the template of the folded line, with %(object)s and
    #: %(count)d ("You viewed %(object)s %(count)d times."); None: it does not fold.
    fold: Callable[[int], str] | None = None


_phrases: dict[str, Phrase] = {}


def register(action: str, *, fold: Callable[[int], str] | None = None):
    """Decorator: `describe(words, event)` is how `action` reads."""

    def decorator(describe: Describe) -> Describe:
        _phrases[action] = Phrase(describe, fold)
        return describe

    return decorator


#: Kinds of things details name (a partner by short name, an agreement by reference, ...):
#: the resolver for a set of values as (reader -> {value: (text, url) or None if hidden}).
Resolver = Callable[[object, set[str]], dict[str, tuple[str, str] | None]]
_resolvers: dict[str, Resolver] = {}
#: Detail key -> kind of what it names (a key may hold one value or a list of them).
_reference_keys: dict[str, str] = {}


def register_reference(kind: str, resolver: Resolver, *keys: str) -> None:
    """Things of `kind` named in details under `keys`, resolved in bulk for a reader."""
    _resolvers[kind] = resolver
    for key in keys:
        _reference_keys[key] = kind


def foldable_actions() -> set[str]:
    return {action for action, phrase in _phrases.items() if phrase.fold is not None}


def discover() -> None:
    """Import every app's `audit_words` module (called once, when the portal starts)."""
    autodiscover_modules("audit_words")


# --- Reading ----------------------------------------------------------------------------------


@dataclass
class Line:
    """One line of a history or log: a sentence, or a fold of the reader's own events."""

    at: datetime.datetime
    sentence: SafeString
    event: AuditEvent | None = None
    count: int = 1
    first_at: datetime.datetime | None = None
    #: The actor's organisation, for pages that show it beside the sentence.
    organisation: Organisation | None = None


@dataclass
class History:
    """An object's history as the reader reads it, newest first, their own views folded."""

    lines: list[Line] = field(default_factory=list)

    def __iter__(self):
        return iter(self.lines)

    def __len__(self):
        return len(self.lines)

    def __bool__(self):
        return bool(self.lines)


def history(reader, obj: Model, *, limit: int = 50) -> History:
    """The latest `limit` events of obj's history in words, with the reader's own views
    (and other foldable acts) counted on one line instead of burying the rest."""
    key = audit.history_key(obj)
    foldable = foldable_actions()
    events = (
        AuditEvent.objects.filter(history=key)
        .exclude(actor_id=reader.pk, action__in=foldable)
        .select_related("actor", "actor_organisation", "organisation")
        .order_by("-id")[:limit]
    )
    own = (
        AuditEvent.objects.filter(history=key, actor_id=reader.pk, action__in=foldable)
        .values("action")
        .annotate(count=Count("id"), last=Max("created_at"))
        .order_by()
    )
    # Read as the history's own part: a page that shows it is kept until an event joins it,
    # not until any event at all is recorded.
    with list_cache.reading_as(f"{audit.HISTORY_PART}{key}", AuditEvent._meta.db_table):
        events, own = list(events), list(own)
    words = Words(reader, events, here=key, shown=obj)
    lines = [words.line(event) for event in events]
    for row in own:
        sample = AuditEvent(action=row["action"], object_type=obj._meta.label_lower)
        lines.append(
            Line(
                at=row["last"],
                sentence=words.folded(sample, row["count"], here=True),
                count=row["count"],
            )
        )
    lines.sort(key=lambda line: line.at, reverse=True)
    return History(lines[:limit])


def log_lines(words: Words, events: list[AuditEvent]) -> list[Line]:
    """A log page's events in words: a run of the reader's own foldable events about one
    object is one line ("You viewed Annual report 4 times")."""
    lines: list[Line] = []
    foldable = foldable_actions()
    for event in events:
        previous = lines[-1].event if lines else None
        if (
            previous is not None
            and event.action in foldable
            and event.actor_id == words.reader.pk
            and (previous.action, previous.actor_id, previous.object_type, previous.object_id)
            == (event.action, event.actor_id, event.object_type, event.object_id)
        ):
            line = lines[-1]
            line.count += 1
            line.first_at = event.created_at
            line.sentence = words.folded(previous, line.count)
            continue
        lines.append(words.line(event))
    return lines


class Words:
    """What a reader may be told about a batch of events, looked up once for the batch."""

    def __init__(
        self, reader, events: Iterable[AuditEvent], *, here: str = "", shown: Model | None = None
    ):
        self.reader = reader
        self.events = list(events)
        self.here = here
        references = {(e.object_type, e.object_id) for e in self.events}
        self.objects = {}
        # The object whose history this is needs no lookup when the reader may see it: its
        # page has asked the access layer already, which answers from its request cache.
        if shown is not None:
            mine = (shown._meta.label_lower, str(shown.pk))
            if mine in references and _may_view(reader, shown):
                references.discard(mine)
                self.objects[mine] = shown
        self.objects.update(_visible_instances(reader, references))
        self._references = self._resolve_references()
        self._people = self._resolve_people()

    # --- Sentences ---

    def line(self, event: AuditEvent) -> Line:
        return Line(
            at=event.created_at,
            sentence=self.sentence(event),
            event=event,
            organisation=event.actor_organisation,
        )

    def sentence(self, event: AuditEvent) -> SafeString:
        """The event in words; a generic sentence for an action nobody phrased."""
        phrase = _phrases.get(event.action)
        if phrase is not None:
            try:
                # A phrase builds with say() or format_html; anything else is escaped here.
                return conditional_escape(phrase.describe(self, event))
            except Exception:  # a phrase must never break the page that lists the event
                logger.exception("audit_words: the phrase of %s failed", event.action)
        return self.generic(event)

    def generic(self, event: AuditEvent) -> SafeString:
        what = event.action.replace("_", " ").replace(".", ": ", 1)
        if event.object_type:
            return self.say(
                gettext("%(actor)s: %(what)s, on %(object)s."),
                actor=self.actor(event),
                what=what,
                object=self.object(event),
            )
        return self.say(gettext("%(actor)s: %(what)s."), actor=self.actor(event), what=what)

    def folded(self, event: AuditEvent, count: int, *, here: bool = False) -> SafeString:
        """The reader's own events of one kind about one object, as one sentence."""
        template = _phrases[event.action].fold(count)
        return self.say(
            template,
            object=conditional_escape(gettext("this")) if here else self.object(event),
            count=count,
        )

    def say(self, template: str, **values) -> SafeString:
        """The (translated) template with each value escaped unless it is already HTML."""
        escaped = {
            name: value if isinstance(value, int) else conditional_escape(value)
            for name, value in values.items()
        }
        return mark_safe(conditional_escape(template) % escaped)  # noqa: S308  (values escaped)

    # --- What sentences name ---

    def details(self, event: AuditEvent) -> dict:
        """The event's details the reader may read: none but the request's own when its
        object is hidden (portal.audit_log)."""
        from portal.audit_log import REQUEST_DETAILS

        details = event.details if isinstance(event.details, dict) else {}
        if event.object_type and not self.object_visible(event):
            return {key: value for key, value in details.items() if key in REQUEST_DETAILS}
        return details

    def object_visible(self, event: AuditEvent) -> bool:
        return (event.object_type, event.object_id) in self.objects

    def actor(self, event: AuditEvent) -> SafeString:
        if event.actor_id is None:
            return conditional_escape(gettext("The portal"))
        if self.reader is not None and event.actor_id == self.reader.pk:
            return conditional_escape(gettext("You"))
        return self._person_name(event.actor, event.actor_label, event.actor_organisation_id)

    def object(self, event: AuditEvent) -> SafeString:
        """The event's object: linked when the reader may open it (not on its own page),
        named when they may see it, and only its kind when they may not."""
        if not event.object_type:
            return conditional_escape(gettext("nothing in particular"))
        instance = self.objects.get((event.object_type, event.object_id))
        if instance is None:
            from portal.audit_log import object_type_label

            return format_html(
                '<span class="muted">{}</span>',
                gettext("a hidden %(kind)s")
                % {"kind": object_type_label(event.object_type).lower()},
            )
        if f"{event.object_type}:{event.object_id}" == self.here:
            # On the object's own page its history says "this agreement", not its title.
            from portal.audit_log import object_type_label

            return conditional_escape(
                gettext("this %(kind)s") % {"kind": object_type_label(event.object_type).lower()}
            )
        text = self._object_text(instance, event)
        url = self._object_url(instance)
        if url:
            return format_html('<a href="{}">{}</a>', url, text)
        return format_html("<strong>{}</strong>", text)

    def reference(self, key: str, value) -> SafeString:
        """A thing a detail names (`key` as the app registered it): linked when the reader
        may open it, a neutral phrase when they may not see it."""
        kind = _reference_keys.get(key)
        found = self._references.get(kind, {}).get(str(value)) if kind else None
        if found is None:
            if kind == "person":
                return self.person(value)
            return conditional_escape(
                gettext("an agreement you cannot see")
                if kind == "agreement"
                else gettext("something you cannot see")
            )
        text, url = found
        return format_html('<a href="{}">{}</a>', url, text) if url else conditional_escape(text)

    def references(self, key: str, values) -> SafeString:
        return self.join([self.reference(key, value) for value in values or []])

    def person(self, username) -> SafeString:
        user = self._people.get(str(username))
        if user is None:
            return conditional_escape(str(username))
        if self.reader is not None and user.pk == self.reader.pk:
            return conditional_escape(gettext("you"))
        membership = getattr(user, "membership", None)
        return self._person_name(user, str(username), membership and membership.organisation_id)

    def people(self, usernames) -> SafeString:
        return self.join([self.person(name) for name in usernames or []])

    def join(self, parts: list) -> SafeString:
        if not parts:
            return conditional_escape(gettext("nobody"))
        if len(parts) == 1:
            return conditional_escape(parts[0])
        return self.say(
            gettext("%(items)s and %(last)s"),
            items=format_html_join(", ", "{}", ((part,) for part in parts[:-1])),
            last=parts[-1],
        )

    def roles(self, values) -> str:
        labels = dict(Role.choices)
        return ", ".join(str(labels.get(value, value)) for value in values or [])

    # --- Lookups, once per batch ---

    def _resolve_references(self) -> dict[str, dict]:
        wanted: dict[str, set[str]] = defaultdict(set)
        for event in self.events:
            for key, value in self.details(event).items():
                kind = _reference_keys.get(key)
                if kind is None or kind == "person":
                    continue
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, str | int) and str(item):
                        wanted[kind].add(str(item))
        return {
            kind: _resolvers[kind](self.reader, values)
            for kind, values in wanted.items()
            if kind in _resolvers
        }

    def _resolve_people(self) -> dict[str, object]:
        """Everyone a sentence names by username, with whether the reader may see their
        organisation's member list (which decides full name or username)."""
        usernames: set[str] = set()
        for event in self.events:
            for key, value in self.details(event).items():
                if _reference_keys.get(key) == "person":
                    for item in value if isinstance(value, list) else [value]:
                        if isinstance(item, str) and item:
                            usernames.add(item)
        people = {}
        if self.events:
            # Asked even when no detail names anyone, so that a page's queries do not depend
            # on which events it happens to show.
            users = get_user_model().objects.filter(username__in=usernames or [""])
            people = {u.username: u for u in users.select_related("membership")}
        organisation_ids = {e.actor_organisation_id for e in self.events if e.actor_id}
        organisation_ids |= {
            u.membership.organisation_id
            for u in people.values()
            if getattr(u, "membership", None) is not None
        }
        for instance in self.objects.values():
            if isinstance(instance, Membership):
                organisation_ids.add(instance.organisation_id)
        organisation_ids.discard(None)
        self._member_lists = set()
        if organisation_ids and self.reader is not None:
            self._member_lists = set(
                access.visible_to(
                    self.reader,
                    Organisation.objects.filter(pk__in=organisation_ids),
                    "view_members",
                ).values_list("pk", flat=True)
            )
        return people

    def _person_name(self, user, username: str, organisation_id) -> SafeString:
        if user is not None and organisation_id in self._member_lists:
            return conditional_escape(user.get_full_name() or username)
        return conditional_escape(username or gettext("someone"))

    def _object_text(self, instance: Model, event: AuditEvent) -> str:
        if isinstance(instance, Membership):
            return self._person_name(
                instance.user, instance.user.get_username(), instance.organisation_id
            )
        if isinstance(instance, get_user_model()):
            membership = getattr(instance, "membership", None)
            return self._person_name(
                instance, instance.get_username(), membership and membership.organisation_id
            )
        return event.object_repr or str(instance)

    def _object_url(self, instance: Model) -> str:
        if isinstance(instance, Membership):
            organisation = instance.organisation
            if access.can(self.reader, "manage_members", organisation):
                return reverse(
                    "portal:member-roles",
                    kwargs={"slug": organisation.slug, "member_pk": instance.pk},
                )
            return ""
        if isinstance(instance, get_user_model()):
            return ""
        get_url = getattr(instance, "get_absolute_url", None)
        return get_url() if get_url else ""


def _may_view(reader, obj: Model) -> bool:
    """access.can(reader, "view", obj) for a protected model; False for any other (the
    rule of portal.audit_log then decides, by a lookup)."""
    if type(obj) not in access.registered_models():
        return False
    return access.can(reader, "view", obj)


def _visible_instances(reader, references) -> dict[tuple[str, str], Model]:
    """The objects behind (object_type, object_id) references that reader may see, one query
    per type (portal.audit_log.visible_objects decides, and this loads them)."""
    from portal import audit_log

    return audit_log.visible_instances(reader, references)


# --- The core's own phrasing ------------------------------------------------------------------


def _organisations(reader, slugs: set[str]) -> dict[str, tuple[str, str]]:
    """Organisations by short name: the directory is public to every signed-in person."""
    found = access.visible_to(reader, Organisation.objects.filter(slug__in=slugs))
    return {o.slug: (o.name, o.get_absolute_url()) for o in found}


register_reference(
    "organisation",
    _organisations,
    "recipient",
    "party",
    "participant",
    "parties",
    "participants",
    "inviting_organisation",
)
register_reference("person", lambda reader, values: {}, "username", "reviewer", "named_users")


def _member(w: Words, e: AuditEvent) -> SafeString:
    """The person a membership event is about (by name to those who see their member list)."""
    return w.object(e)


@register("member.invited")
def _invited(w, e):
    roles = w.details(e).get("roles") or []
    if roles:
        return w.say(
            gettext("%(actor)s invited %(member)s as %(roles)s."),
            actor=w.actor(e),
            member=_member(w, e),
            roles=w.roles(roles),
        )
    return w.say(gettext("%(actor)s invited %(member)s."), actor=w.actor(e), member=_member(w, e))


@register("member.invitation_resent")
def _invitation_resent(w, e):
    return w.say(
        gettext(
            "%(actor)s sent %(member)s a new invitation link; the earlier one stopped working."
        ),
        actor=w.actor(e),
        member=_member(w, e),
    )


@register("member.invitation_revoked")
def _invitation_revoked(w, e):
    return w.say(
        gettext("%(actor)s revoked the invitation of %(member)s."),
        actor=w.actor(e),
        member=_member(w, e),
    )


@register("member.invitation_withheld")
def _invitation_withheld(w, e):
    return w.say(
        gettext(
            "%(organisation)s tried to invite the address of %(member)s, who already has an "
            "account; the portal told them by email instead."
        ),
        organisation=w.reference(
            "inviting_organisation", w.details(e).get("inviting_organisation")
        ),
        member=w.object(e),
    )


@register("member.roles_changed")
def _roles_changed(w, e):
    details = w.details(e)
    before, after = set(details.get("before") or []), set(details.get("after") or [])
    changes = []
    if after - before:
        changes.append(gettext("added %(roles)s") % {"roles": w.roles(sorted(after - before))})
    if before - after:
        changes.append(gettext("removed %(roles)s") % {"roles": w.roles(sorted(before - after))})
    return w.say(
        gettext("%(actor)s changed %(member)s's roles: %(changes)s."),
        actor=w.actor(e),
        member=_member(w, e),
        changes="; ".join(changes) or gettext("no change"),
    )


@register("member.deactivated")
def _deactivated(w, e):
    return w.say(
        gettext("%(actor)s deactivated %(member)s; their sessions and API token ended."),
        actor=w.actor(e),
        member=_member(w, e),
    )


@register("member.reactivated")
def _reactivated(w, e):
    return w.say(
        gettext("%(actor)s reactivated %(member)s."), actor=w.actor(e), member=_member(w, e)
    )


@register("organisation.created")
def _organisation_created(w, e):
    return w.say(
        gettext("%(actor)s added %(object)s to the directory."),
        actor=w.actor(e),
        object=w.object(e),
    )


@register("organisation.updated")
def _organisation_updated(w, e):
    fields = ", ".join(sorted(w.details(e).get("changes") or {})) or gettext("nothing")
    return w.say(
        gettext("%(actor)s changed the directory entry of %(object)s: %(fields)s."),
        actor=w.actor(e),
        object=w.object(e),
        fields=fields,
    )


@register("account.updated")
def _account_updated(w, e):
    return w.say(
        gettext("%(actor)s changed the name on the account of %(member)s."),
        actor=w.actor(e),
        member=w.object(e),
    )


@register("notifications.read")
def _notifications_read(w, e):
    count = w.details(e).get("count", 1)
    count = count if isinstance(count, int) else 1
    return w.say(
        ngettext(
            "%(actor)s marked %(count)s notice read.",
            "%(actor)s marked %(count)s notices read.",
            count,
        ),
        actor=w.actor(e),
        count=count,
    )


@register("account.password_reset_sent")
def _password_reset_sent(w, e):
    return w.say(
        gettext("%(actor)s sent %(member)s a link to reset their password."),
        actor=w.actor(e),
        member=w.object(e),
    )


@register("account.deactivated")
def _account_deactivated(w, e):
    return w.say(
        gettext("%(actor)s deactivated the account of %(member)s."),
        actor=w.actor(e),
        member=w.object(e),
    )


_ACCOUNT_ACTS = {
    "auth.signed_in": gettext_lazy("%(actor)s signed in."),
    "auth.signed_out": gettext_lazy("%(actor)s signed out."),
    "auth.password_changed": gettext_lazy("%(actor)s changed their password."),
    "auth.password_set": gettext_lazy("%(actor)s set a password."),
    "auth.password_reset": gettext_lazy("%(actor)s set their password through an emailed link."),
    "auth.reauthentication_failed": gettext_lazy(
        "%(actor)s could not confirm it was them (wrong password or code)."
    ),
    "api_token.created": gettext_lazy("%(actor)s created an API token."),
    "api_token.rotated": gettext_lazy(
        "%(actor)s replaced their API token; the old one stopped working."
    ),
    "api_token.revoked": gettext_lazy("%(actor)s revoked their API token."),
    "audit.exported": gettext_lazy("%(actor)s exported the audit log as CSV."),
    "grants.reconciled": gettext_lazy("%(actor)s repaired grants that had drifted from the rules."),
}


def _account_act(w, e):
    return w.say(str(_ACCOUNT_ACTS[e.action]), actor=w.actor(e))


for _action in _ACCOUNT_ACTS:
    register(_action)(_account_act)


@register("auth.signed_out_everywhere")
def _signed_out_everywhere(w, e):
    count = int(w.details(e).get("ended_sessions") or 0)
    return w.say(
        ngettext(
            "%(actor)s signed out everywhere (%(count)d session ended).",
            "%(actor)s signed out everywhere (%(count)d sessions ended).",
            count,
        ),
        actor=w.actor(e),
        count=count,
    )


@register("auth.sign_in_failed")
def _sign_in_failed(w, e):
    details = w.details(e)
    reason = {
        "otp": gettext("wrong authenticator code"),
        "password": gettext("wrong password"),
    }.get(details.get("reason"), details.get("reason") or gettext("refused"))
    return w.say(
        gettext("A sign-in as %(who)s failed: %(reason)s."),
        who=w.object(e) if w.object_visible(e) else details.get("login", gettext("someone")),
        reason=reason,
    )


_MFA = {
    "auth.mfa_added": gettext_lazy("%(actor)s added a second factor (%(type)s)."),
    "auth.mfa_removed": gettext_lazy("%(actor)s removed a second factor (%(type)s)."),
    "auth.mfa_reset": gettext_lazy("%(actor)s renewed a second factor (%(type)s)."),
}


def _mfa(w, e):
    kind = {"totp": gettext("authenticator app"), "recovery_codes": gettext("recovery codes")}
    value = w.details(e).get("type", "")
    return w.say(str(_MFA[e.action]), actor=w.actor(e), type=kind.get(value, value))


for _action in _MFA:
    register(_action)(_mfa)


@register("audit.chain_broken")
def _chain_broken(w, e):
    return w.say(
        gettext("The portal found the audit trail altered at event #%(id)s: %(reason)s"),
        id=str(w.details(e).get("bad_event_id", "?")),
        reason=w.details(e).get("reason", ""),
    )


@register(audit.REFUSAL)
def _refused(w, e):
    details = w.details(e)
    return w.say(
        gettext("%(actor)s was refused “%(action)s” on %(object)s."),
        actor=w.actor(e),
        action=str(details.get("requested_action", "")).replace("_", " "),
        object=w.object(e),
    )

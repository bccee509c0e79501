"""How agreements' audit events read (portal.audit_words), and agreements named by their
reference in other apps' events: linked for their parties' people, hidden from the rest."""

from django.utils.translation import gettext, gettext_lazy

from agreements.models import Agreement
from portal import access
from portal.audit_words import register, register_reference


def _agreements(reader, labels: set[str]) -> dict[str, tuple[str, str]]:
    """Agreements by label ("AGR-…" or "AGR-… v2") that reader may see, in one query."""
    wanted = {}
    for label in labels:
        reference, _, version = label.partition(" v")
        wanted[label] = (reference, int(version) if version.isdigit() else 1)
    found = access.visible_to(
        reader, Agreement.objects.filter(reference__in={ref for ref, _ in wanted.values()})
    ).only("pk", "reference", "version")
    by_key = {(a.reference, a.version): a for a in found}
    return {
        label: (label, by_key[key].get_absolute_url())
        for label, key in wanted.items()
        if key in by_key
    }


register_reference("agreement", _agreements, "agreement", "amends", "amendment", "by")


_SIMPLE = {
    "agreement.edited": gettext_lazy("%(actor)s edited the draft of %(object)s."),
    "agreement.submitted": gettext_lazy(
        "%(actor)s submitted %(object)s for signature; its terms are frozen."
    ),
    "agreement.withdrawn": gettext_lazy("%(actor)s withdrew %(object)s for changes."),
    "agreement.declined": gettext_lazy("%(actor)s declined %(object)s."),
    "agreement.fully_signed": gettext_lazy("Every party has signed %(object)s."),
    "agreement.activated": gettext_lazy("%(object)s came into force."),
    "agreement.expired": gettext_lazy("%(object)s expired."),
    "agreement.terminated": gettext_lazy("%(object)s was terminated and is no longer in force."),
}


def _simple(w, e):
    return w.say(str(_SIMPLE[e.action]), actor=w.actor(e), object=w.object(e))


for _action in _SIMPLE:
    register(_action)(_simple)


@register("agreement.created")
def _created(w, e):
    return w.say(
        gettext("%(actor)s drafted %(object)s with %(parties)s."),
        actor=w.actor(e),
        object=w.object(e),
        parties=w.references("parties", w.details(e).get("parties")),
    )


@register("agreement.party_edited")
def _party_edited(w, e):
    return w.say(
        gettext("%(actor)s updated the signatories or contacts of %(party)s in %(object)s."),
        actor=w.actor(e),
        party=w.reference("party", w.details(e).get("party", "")),
        object=w.object(e),
    )


@register("agreement.signed")
def _signed(w, e):
    return w.say(
        gettext("%(actor)s signed %(object)s for %(party)s."),
        actor=w.actor(e),
        object=w.object(e),
        party=w.reference("party", w.details(e).get("party", "")),
    )


@register("agreement.termination_scheduled")
def _termination_scheduled(w, e):
    return w.say(
        gettext("%(actor)s gave notice to terminate %(object)s on %(day)s."),
        actor=w.actor(e),
        object=w.object(e),
        day=str(w.details(e).get("effective_on", "")),
    )


@register("agreement.amendment_opened")
def _amendment_opened(w, e):
    return w.say(
        gettext("%(actor)s opened %(object)s to amend %(amends)s."),
        actor=w.actor(e),
        object=w.object(e),
        amends=w.reference("amends", w.details(e).get("amends", "")),
    )


@register("agreement.amended")
def _amended(w, e):
    return w.say(
        gettext("%(actor)s opened the amendment %(amendment)s of %(object)s."),
        actor=w.actor(e),
        amendment=w.reference("amendment", w.details(e).get("amendment", "")),
        object=w.object(e),
    )


@register("agreement.superseded")
def _superseded(w, e):
    return w.say(
        gettext("%(object)s was replaced by %(by)s, which came into force."),
        object=w.object(e),
        by=w.reference("by", w.details(e).get("by", "")),
    )


@register("agreement.renewal_notice")
def _renewal_notice(w, e):
    return w.say(
        gettext("The renewal notice period of %(object)s began: it expires on %(day)s."),
        object=w.object(e),
        day=str(w.details(e).get("expires_on", "")),
    )


@register("agreement.evidence_downloaded")
def _evidence_downloaded(w, e):
    file = str(w.details(e).get("file", ""))
    if "certificate" in file or file.endswith("pdf"):
        template = gettext("%(actor)s downloaded the certificate of %(object)s.")
    else:
        template = gettext("%(actor)s downloaded the signed evidence of %(object)s.")
    return w.say(template, actor=w.actor(e), object=w.object(e))

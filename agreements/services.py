"""Every write to agreements: drafting, signing, declining, amending, ending.

Each function checks access, validates the transition, mutates inside one transaction, syncs
the grants and records an audit event. Views, the API, `tick` and the demo all come here.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from agreements import content, lifecycle, policies
from agreements.models import Agreement, AgreementStatus, Party, Signature
from portal import access, audit, ids, reauth
from portal.models import Membership, Organisation
from portal.notifications import notify
from portal.states import TransitionNotAllowed

User = get_user_model()

#: Fields a programme manager may set on a draft (everything else is the lifecycle's).
TERM_FIELDS = [*content.TERM_FIELDS, "body"]
PARTY_FIELDS = ["required_signatures", "legal_contact", "technical_contact", "incident_contact"]

#: Called as hook(old, new) when an amendment replaces the version in force; later apps move
#: what ran under the old version (shares, projects) to the new one.
superseded_hooks: list[Callable[[Agreement, Agreement], None]] = []
#: Called as hook(agreement) when an agreement stops being in force (expiry, termination).
ended_hooks: list[Callable[[Agreement], None]] = []
#: Called as hook(agreement) when the last day an agreement is in force moves (a termination
#: scheduled for a later date): grants that follow from it must lapse on the new day.
last_day_moved_hooks: list[Callable[[Agreement], None]] = []
#: Called as hook(agreement, viewer) on the page that confirms an agreement's end: each says,
#: in sentences, what the end takes away, counting only what viewer's organisation may know
#: (what it shared, and what was shared with it).
ending_consequence_hooks: list[Callable[[Agreement, object], list[str]]] = []


# --- Drafting -------------------------------------------------------------------------------


def create_agreement(*, actor, parties: Iterable[Organisation], **terms) -> Agreement:
    """Draft a new agreement between the actor's organisation and at least one other."""
    membership = _programme_manager(actor)
    parties = _unique(parties)
    if membership.organisation not in parties:
        raise ValidationError({"parties": _("Your own organisation must be one of the parties.")})
    _check_parties(parties)
    unknown = set(terms) - set(TERM_FIELDS)
    if unknown:
        raise ValidationError(
            _("These fields cannot be set here: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )
    for attempt in range(3):
        try:
            with transaction.atomic():
                agreement = Agreement(created_by=actor, reference=_next_reference(), **terms)
                agreement.full_clean()
                agreement.save()
                added = [_add_party(agreement, o, actor=actor) for o in parties]
                access.sync_object(agreement)
                audit.record(
                    actor,
                    "agreement.created",
                    agreement,
                    parties=sorted(o.slug for o in parties),
                )
                _ask_to_designate(agreement, added, actor=actor)
            return agreement
        except IntegrityError:
            if attempt == 2:  # three writers raced for the same reference
                raise
    raise AssertionError("unreachable")


def update_draft(
    *, actor, agreement: Agreement, parties: Iterable[Organisation] | None = None, **terms
) -> Agreement:
    """Change a draft's terms and, optionally, its parties."""
    access.require(actor, "edit", agreement)
    unknown = set(terms) - set(TERM_FIELDS)
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )
    with transaction.atomic():
        agreement = _locked(agreement)
        lifecycle.machine.ensure(agreement, "edit")
        changed = {k for k, v in terms.items() if getattr(agreement, k) != v}
        for name, value in terms.items():
            setattr(agreement, name, value)
        agreement.full_clean()
        agreement.save()
        party_changes = {}
        if parties is not None:
            party_changes = _replace_parties(actor, agreement, _unique(parties))
        access.sync_object(agreement)
        audit.record(actor, "agreement.edited", agreement, fields=sorted(changed), **party_changes)
    return agreement


def update_party(*, actor, party: Party, signatories: Iterable | None = None, **details) -> Party:
    """A party's own programme manager designates its signatories (people or usernames of its
    own organisation), how many must sign, and its contacts."""
    require_designation(actor=actor, party=party)
    agreement = party.agreement
    unknown = set(details) - set(PARTY_FIELDS)
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )
    with transaction.atomic():
        _locked(agreement)
        lifecycle.machine.ensure(agreement, "edit")
        party = Party.objects.select_for_update().select_related("organisation").get(pk=party.pk)
        for name, value in details.items():
            setattr(party, name, value)
        party.full_clean()
        party.save()
        if signatories is not None:
            party.signatories.set(_resolve_signatories(party.organisation, signatories))
        audit.record(
            actor,
            "agreement.party_edited",
            agreement,
            party=party.organisation.slug,
            fields=sorted(details) + (["signatories"] if signatories is not None else []),
        )
    return party


def require_designation(*, actor, party: Party) -> None:
    """404 when the agreement is hidden from actor; 403 unless actor is a programme manager
    of this very party. Only a party's own people learn who may sign for it."""
    access.require(actor, "edit", party.agreement)
    if not policies.is_own_party_programme_manager(actor, party):
        audit.record(
            actor,
            "access.refused",
            party.agreement,
            requested_action="designate_signatories",
            outcome="forbidden",
        )
        raise PermissionDenied(
            _("Only the party's own programme managers designate its signatories.")
        )


def submit(*, actor, agreement: Agreement) -> Agreement:
    """Freeze the draft's content, hash it and ask every designated signatory to sign."""
    access.require(actor, "submit", agreement)
    with transaction.atomic():
        agreement = _locked(agreement)
        lifecycle.machine.ensure(agreement, "submit")
        _check_ready_for_signature(agreement)
        agreement.signed_document = content.terms_document(agreement)
        agreement.content_hash = content.document_hash(agreement.signed_document)
        agreement.submitted_at = timezone.now()
        lifecycle.machine.apply(agreement, "submit")
        agreement.save()
        audit.record(actor, "agreement.submitted", agreement, content_hash=agreement.content_hash)
        signatories = User.objects.filter(
            pk__in=Party.signatories.through.objects.filter(party__agreement=agreement).values(
                "user_id"
            )
        )
        notify(
            signatories,
            kind="agreement.signature_requested",
            title=f"Your signature is requested on {agreement.label}",
            body=f"{agreement.title} awaits your organisation's signature.",
            url=agreement.get_absolute_url(),
            actor=actor,
        )
    return agreement


def withdraw(*, actor, agreement: Agreement, reason: str = "") -> Agreement:
    """Take a submission back to draft; any signatures already given are void."""
    access.require(actor, "withdraw", agreement)
    with transaction.atomic():
        agreement = _locked(agreement)
        lifecycle.machine.apply(agreement, "withdraw")
        voided = _void_signatures(agreement, f"Withdrawn: {reason}".strip(": "))
        agreement.content_hash, agreement.signed_document = "", None
        agreement.save()
        audit.record(actor, "agreement.withdrawn", agreement, reason=reason, voided=voided)
        _notify_parties(
            agreement,
            kind="agreement.withdrawn",
            title=f"{agreement.label} was withdrawn for changes",
            body=reason or "The draft is open for editing again.",
            actor=actor,
        )
    return agreement


# --- Signing --------------------------------------------------------------------------------


class AlreadySigned(TransitionNotAllowed):
    """The person already signed this very content (HTTP 409 in the API)."""


def sign(*, actor, agreement: Agreement, reauthentication: reauth.Reauthentication) -> Signature:
    """Record the actor's signature for their organisation; activate once every party signed.

    Safe under concurrency: the agreement row is locked, so of two requests at once (a double
    click, a retried call) one signs and the other is refused with AlreadySigned, naming when
    the signature was given; activation happens exactly once.
    """
    access.require(actor, "sign", agreement)
    reauth.require_recent(reauthentication)
    with transaction.atomic():
        agreement = _locked(agreement)
        party = agreement.parties.select_related("organisation").get(
            organisation_id=actor.membership.organisation_id
        )
        valid = party.signatures.filter(voided_at__isnull=True, content_hash=agreement.content_hash)
        existing = own_signature(actor=actor, agreement=agreement)
        if existing is not None:
            # Checked before the state: once the last signature activated the agreement, its
            # signer is told they signed, not that it is active.
            raise AlreadySigned(already_signed_message(existing), code="already_signed")
        lifecycle.machine.ensure(agreement, "sign")
        if valid.count() >= party.required_signatures:
            raise ValidationError(
                _("%(organisation)s has already given every signature needed.")
                % {"organisation": party.organisation}
            )
        signature = Signature.objects.create(
            agreement=agreement,
            party=party,
            user=actor,
            organisation=party.organisation,
            signed_at=timezone.now(),
            content_hash=agreement.content_hash,
            method=reauthentication.method,
        )
        audit.record(
            actor,
            "agreement.signed",
            agreement,
            party=party.organisation.slug,
            content_hash=agreement.content_hash,
            method=reauthentication.method,
        )
        # One act, one notice: the last signature that completes the agreement is told as
        # its completion (or its coming into force), not also as the party's signing.
        if _fully_signed(agreement):
            _complete(agreement, actor=actor, last_signer=party.organisation)
        elif valid.count() >= party.required_signatures:
            _notify_parties(
                agreement,
                kind="agreement.party_signed",
                title=f"{party.organisation} signed {agreement.label}",
                body=f"{party.organisation} gave all its signatures.",
                actor=actor,
            )
    return signature


def own_signature(*, actor, agreement: Agreement) -> Signature | None:
    """The actor's valid signature of the agreement's current content, if they gave one."""
    if not agreement.content_hash or not getattr(actor, "is_authenticated", False):
        return None
    return agreement.signatures.filter(
        user=actor, voided_at__isnull=True, content_hash=agreement.content_hash
    ).first()


def already_signed_message(signature: Signature) -> str:
    """Why a second signature is refused, with when the first was given (in UTC)."""
    signed_at = signature.signed_at.astimezone(datetime.UTC)
    return _("You already signed this version on %(day)s at %(time)s UTC.") % {
        "day": date_format(signed_at, "j M Y"),
        "time": date_format(signed_at, "H:i"),
    }


def decline(
    *, actor, agreement: Agreement, reason: str, reauthentication: reauth.Reauthentication
) -> Agreement:
    """Refuse to sign, with a reason: back to draft, every signature void, every party told."""
    access.require(actor, "sign", agreement)
    reauth.require_recent(reauthentication)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why you decline, so the parties can fix it.")})
    with transaction.atomic():
        agreement = _locked(agreement)
        lifecycle.machine.apply(agreement, "decline")
        voided = _void_signatures(agreement, f"Declined by {actor.membership.organisation}")
        agreement.content_hash, agreement.signed_document = "", None
        agreement.save()
        audit.record(actor, "agreement.declined", agreement, reason=reason, voided=voided)
        _notify_parties(
            agreement,
            kind="agreement.declined",
            title=f"{actor.membership.organisation} declined {agreement.label}",
            body=f"Reason: {reason}",
            actor=actor,
        )
    return agreement


# --- In force, and after ----------------------------------------------------------------------


def terminate(
    *, actor, agreement: Agreement, reason: str, effective_on: datetime.date
) -> Agreement:
    """End an agreement early, today or on a later date, with a reason."""
    access.require(actor, "terminate", agreement)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for terminating.")})
    today = timezone.localdate()
    if effective_on < today:
        raise ValidationError({"effective_on": _("A termination cannot take effect in the past.")})
    if agreement.expires_on and effective_on > agreement.expires_on:
        raise ValidationError({"effective_on": _("The agreement expires before that date anyway.")})
    with transaction.atomic():
        agreement = _locked(agreement)
        lifecycle.machine.ensure(agreement, "terminate")
        if agreement.termination_effective_on:
            raise ValidationError(_("A termination is already scheduled for this agreement."))
        agreement.termination_reason = reason
        agreement.termination_effective_on = effective_on
        agreement.save()
        audit.record(
            actor,
            "agreement.termination_scheduled",
            agreement,
            reason=reason,
            effective_on=effective_on,
        )
        if effective_on <= today:
            _end(agreement, "end_terminated", actor=actor)
        else:
            for hook in last_day_moved_hooks:
                hook(agreement)
            _sync_party_organisations(agreement)
            _notify_parties(
                agreement,
                kind="agreement.termination_scheduled",
                title=f"{agreement.label} will end on {effective_on:%d %B %Y}",
                body=f"Terminated by {actor.membership.organisation}. Reason: {reason}",
                actor=actor,
            )
    return agreement


def ending_consequences(*, agreement: Agreement, viewer) -> list[str]:
    """What ending the agreement ends, in concrete sentences for a person of one party."""
    sentences = [
        _(
            "Every share made under it ends, whoever made it: its recipients lose access to "
            "what was shared with them under %(label)s."
        )
        % {"label": agreement.label}
    ]
    for hook in ending_consequence_hooks:
        sentences += hook(agreement, viewer)
    own = getattr(viewer, "membership", None)
    others = [
        str(p.organisation)
        for p in agreement.parties.select_related("organisation")
        if own is None or p.organisation_id != own.organisation_id
    ]
    if others and agreement.is_live():  # member lists open only while it is in force
        sentences.append(
            _(
                "Your organisation and %(partners)s stop seeing each other's member lists, "
                "unless another agreement in force between you keeps them open."
            )
            % {"partners": ", ".join(others)}
        )
    return sentences


def amend(*, actor, agreement: Agreement) -> Agreement:
    """Open a new draft version of an active agreement; it replaces this one once in force."""
    access.require(actor, "amend", agreement)
    with transaction.atomic():
        agreement = _locked(agreement)
        lifecycle.machine.ensure(agreement, "amend")
        if Agreement.objects.filter(supersedes=agreement).exists():
            raise ValidationError(
                _("%(agreement)s already has an amendment in progress.")
                % {"agreement": agreement.label}
            )
        draft = Agreement(
            reference=agreement.reference,
            version=agreement.version + 1,
            supersedes=agreement,
            created_by=actor,
            **{name: getattr(agreement, name) for name in TERM_FIELDS},
        )
        draft.save()
        for party in agreement.parties.prefetch_related("signatories"):
            copy = Party.objects.create(
                agreement=draft,
                organisation_id=party.organisation_id,
                **{name: getattr(party, name) for name in PARTY_FIELDS},
            )
            copy.signatories.set(party.signatories.all())
        access.sync_object(draft)
        audit.record(actor, "agreement.amendment_opened", draft, amends=agreement.label)
        audit.record(actor, "agreement.amended", agreement, amendment=draft.label)
    return draft


# --- Time-based (run by tick) ---------------------------------------------------------------


def run_due_transitions(*, today: datetime.date | None = None) -> dict[str, int]:
    """Activate, expire and end what is due, and send renewal notices once. Idempotent."""
    today = today or timezone.localdate()
    counts = {"activated": 0, "expired": 0, "terminated": 0, "renewal_notices": 0}
    for agreement in Agreement.objects.filter(
        status=AgreementStatus.SIGNED, effective_from__lte=today
    ):
        with transaction.atomic():
            agreement = _locked(agreement)
            if agreement.status == AgreementStatus.SIGNED and agreement.is_live(today):
                _activate(agreement, actor=None)
                counts["activated"] += 1
    in_force = [AgreementStatus.SIGNED, AgreementStatus.ACTIVE]
    for agreement in Agreement.objects.filter(
        status__in=in_force, termination_effective_on__lte=today
    ):
        with transaction.atomic():
            _end(_locked(agreement), "end_terminated", actor=None)
            counts["terminated"] += 1
    for agreement in Agreement.objects.filter(status__in=in_force, expires_on__lt=today):
        with transaction.atomic():
            _end(_locked(agreement), "expire", actor=None)
            counts["expired"] += 1
    for agreement in Agreement.objects.filter(
        status=AgreementStatus.ACTIVE,
        renewal_notice_sent_at__isnull=True,
        expires_on__isnull=False,
    ):
        if agreement.expires_on - datetime.timedelta(days=agreement.renewal_notice_days) <= today:
            with transaction.atomic():
                agreement = _locked(agreement)
                agreement.renewal_notice_sent_at = timezone.now()
                agreement.save(update_fields=["renewal_notice_sent_at"])
                audit.record(
                    None, "agreement.renewal_notice", agreement, expires_on=agreement.expires_on
                )
                _notify_parties(
                    agreement,
                    kind="agreement.expiring",
                    title=f"{agreement.label} expires on {agreement.expires_on:%d %B %Y}",
                    body="Its renewal notice period has started.",
                    programme_managers_only=True,
                )
                counts["renewal_notices"] += 1
    return counts


# --- Helpers --------------------------------------------------------------------------------


def _complete(agreement: Agreement, *, actor, last_signer=None) -> None:
    """Every party has signed: in force now, expired already, or signed until its date.
    Exactly one notice tells the parties, naming the party whose signature completed it."""
    lifecycle.machine.apply(agreement, "complete")
    agreement.signed_at = timezone.now()
    agreement.save()
    audit.record(actor, "agreement.fully_signed", agreement, content_hash=agreement.content_hash)
    today = timezone.localdate()
    signed = f"{last_signer} signed, the last party to do so. " if last_signer else ""
    if agreement.expires_on and agreement.expires_on < today:
        _end(agreement, "expire", actor=actor)  # the last signature came after the expiry date
    elif agreement.effective_from <= today:
        _activate(agreement, actor=actor, because=signed)
    else:
        _notify_parties(
            agreement,
            kind="agreement.fully_signed",
            title=f"{agreement.label} is signed by every party",
            body=f"{signed}It comes into force on {agreement.effective_from:%d %B %Y}.",
            actor=actor,
        )


def _activate(agreement: Agreement, *, actor, because: str = "") -> None:
    lifecycle.machine.apply(agreement, "activate")
    agreement.activated_at = timezone.now()
    agreement.save()
    audit.record(actor, "agreement.activated", agreement)
    previous = agreement.supersedes
    if previous is not None and previous.status == AgreementStatus.ACTIVE:
        previous = _locked(previous)
        lifecycle.machine.apply(previous, "supersede")
        previous.ended_at = timezone.now()
        previous.save()
        # The amendment coming into force ends the old version: recorded as the portal's
        # doing, since the last signer of the new version may be a party the old one never had,
        # and the old version's history is told only to its own parties' people.
        audit.record(None, "agreement.superseded", previous, by=agreement.label)
        for hook in superseded_hooks:
            hook(previous, agreement)
    _sync_party_organisations(agreement)
    _notify_parties(
        agreement,
        kind="agreement.active",
        title=f"{agreement.label} is now in force",
        body=f"{because}{agreement.title}",
        actor=actor,
    )


def _end(agreement: Agreement, transition: str, *, actor) -> None:
    lifecycle.machine.apply(agreement, transition)
    agreement.ended_at = timezone.now()
    agreement.save()
    audit.record(actor, f"agreement.{agreement.status}", agreement)
    for hook in ended_hooks:
        hook(agreement)
    _sync_party_organisations(agreement)
    verb = "expired" if agreement.status == AgreementStatus.EXPIRED else "was terminated"
    _notify_parties(
        agreement,
        kind=f"agreement.{agreement.status}",
        title=f"{agreement.label} {verb}",
        body=agreement.termination_reason or agreement.title,
        actor=actor,
    )


def _sync_party_organisations(agreement: Agreement) -> None:
    """Member lists open and close between parties as agreements start and end."""
    for party in agreement.parties.select_related("organisation"):
        access.sync_object(party.organisation)


def _fully_signed(agreement: Agreement) -> bool:
    for party in agreement.parties.all():
        valid = party.signatures.filter(voided_at__isnull=True, content_hash=agreement.content_hash)
        if valid.count() < party.required_signatures:
            return False
    return True


def _void_signatures(agreement: Agreement, reason: str) -> int:
    return agreement.signatures.filter(voided_at__isnull=True).update(
        voided_at=timezone.now(), void_reason=reason[:500]
    )


def _notify_parties(
    agreement: Agreement,
    *,
    kind: str,
    title: str,
    body: str,
    programme_managers_only=False,
    actor=None,
) -> None:
    members = Membership.objects.filter(
        organisation__in=agreement.parties.values("organisation"), user__is_active=True
    )
    if programme_managers_only:
        members = members.filter(programme_manager=True)
    else:
        members = members.filter(programme_manager=True) | members.filter(signatory=True)
    notify(
        [m.user for m in members.select_related("user")],
        kind=kind,
        title=title,
        body=body,
        url=agreement.get_absolute_url(),
        actor=actor,
    )


def _check_parties(parties: list[Organisation]) -> None:
    if len(parties) < 2:
        raise ValidationError({"parties": _("An agreement needs at least two parties.")})
    inactive = [o.name for o in parties if not o.is_active]
    if inactive:
        raise ValidationError(
            {"parties": _("Inactive organisations: %(names)s.") % {"names": ", ".join(inactive)}}
        )


def _check_ready_for_signature(agreement: Agreement) -> None:
    problems = []
    if not agreement.body.strip():
        problems.append(_("The agreement has no text."))
    parties = list(agreement.parties.select_related("organisation").prefetch_related("signatories"))
    if len(parties) < 2:
        problems.append(_("An agreement needs at least two parties."))
    short = [p for p in parties if len(p.signatories.all()) < p.required_signatures]
    for party in short:
        named = len(party.signatories.all())
        problems.append(
            ngettext(
                "%(organisation)s needs %(count)s designated signatory; it has %(named)s.",
                "%(organisation)s needs %(count)s designated signatories; it has %(named)s.",
                party.required_signatures,
            )
            % {
                "organisation": party.organisation,
                "count": party.required_signatures,
                "named": named,
            }
        )
    if short:
        problems.append(
            _("Each party's own programme managers designate its signatories on its page.")
        )
    if agreement.expires_on and agreement.expires_on <= timezone.localdate():
        problems.append(_("The expiry date has already passed."))
    if problems:
        raise ValidationError(problems)


def _replace_parties(actor, agreement: Agreement, parties: list[Organisation]) -> dict:
    _check_parties(parties)
    if actor.membership.organisation not in parties:
        raise ValidationError({"parties": _("Your own organisation must stay a party.")})
    current = {p.organisation_id: p for p in agreement.parties.all()}
    wanted = {o.pk: o for o in parties}
    for organisation_id in current.keys() - wanted.keys():
        current[organisation_id].delete()
    new = [_add_party(agreement, wanted[i], actor=actor) for i in wanted.keys() - current.keys()]
    _ask_to_designate(agreement, new, actor=actor)
    added = sorted(wanted[i].slug for i in wanted.keys() - current.keys())
    removed = sorted(current[i].organisation.slug for i in current.keys() - wanted.keys())
    return {"parties_added": added, "parties_removed": removed} if added or removed else {}


def _add_party(agreement: Agreement, organisation: Organisation, *, actor) -> Party:
    """A new party. Only the drafter's own party starts with its signatories (the drafter's
    colleagues); every other party designates its own, so nobody else learns who they are."""
    party = Party.objects.create(agreement=agreement, organisation=organisation)
    if organisation.pk == actor.membership.organisation_id:
        party.signatories.set(_eligible_signatories(organisation))
    return party


def _ask_to_designate(agreement: Agreement, parties: Iterable[Party], *, actor) -> None:
    """Tell the programme managers of each party the actor named that they must designate."""
    drafter = actor.membership.organisation
    for party in parties:
        if party.organisation_id == drafter.pk:
            continue
        managers = party.organisation.memberships.filter(
            programme_manager=True, user__is_active=True
        ).select_related("user")
        notify(
            [m.user for m in managers],
            kind="agreement.designation_requested",
            title=_("%(label)s: designate who signs for %(organisation)s")
            % {"label": agreement.label, "organisation": party.organisation},
            body=_(
                "%(drafter)s named %(organisation)s a party to “%(title)s”. Choose who signs "
                "for %(organisation)s and how many of them must sign."
            )
            % {"drafter": drafter, "organisation": party.organisation, "title": agreement.title},
            url=reverse("agreements:party", kwargs={"pk": agreement.pk, "party_pk": party.pk}),
            actor=actor,
        )


def _eligible_signatories(organisation: Organisation) -> set[int]:
    return set(
        organisation.memberships.filter(signatory=True, user__is_active=True).values_list(
            "user_id", flat=True
        )
    )


def _resolve_signatories(organisation: Organisation, signatories: Iterable) -> list:
    """The organisation's active signatories among people or usernames; any other name is
    refused in the same words, whether it is unknown, inactive or someone else's."""
    names = list(dict.fromkeys(s if isinstance(s, str) else s.get_username() for s in signatories))
    people = list(
        User.objects.filter(
            username__in=names,
            is_active=True,
            membership__organisation=organisation,
            membership__signatory=True,
        )
    )
    outsiders = sorted(set(names) - {u.get_username() for u in people})
    if outsiders:
        raise ValidationError(
            {
                "signatories": _("Not an active signatory of %(organisation)s: %(names)s.")
                % {"organisation": organisation, "names": ", ".join(outsiders)}
            }
        )
    return people


def _programme_manager(actor) -> Membership:
    membership = getattr(actor, "membership", None)
    if not (
        actor.is_authenticated and actor.is_active and membership and membership.programme_manager
    ):
        raise PermissionDenied(_("Only programme managers draft agreements."))
    return membership


def _locked(agreement: Agreement) -> Agreement:
    return Agreement.objects.select_for_update().get(pk=agreement.pk)


def _next_reference() -> str:
    """AGR-<year>-<code>, with a random code (AGR-2026-7KQ3-M9XD) that, unlike a number,
    counts nothing. Amendments keep their agreement's reference.

    A code already taken is drawn again; two writers drawing the same one at once hit the
    unique constraint, and create_agreement retries.
    """
    prefix = f"AGR-{timezone.localdate().year}-"
    while True:
        reference = prefix + ids.random_code()
        if not Agreement.objects.filter(reference=reference).exists():
            return reference


def _unique(organisations: Iterable[Organisation]) -> list[Organisation]:
    seen = {}
    for organisation in organisations:
        seen.setdefault(organisation.pk, organisation)
    return list(seen.values())

"""Every write of intelligence goes through here: imports (STIX bundles, MISP events, the
indicator form, the API, TAXII), shares and their ends, sightings and opinions.

One path stores objects (`import_objects`); the form, MISP and TAXII build STIX and call it.
Sharing reuses the resources' rules (`sharing_problem`, named RED recipients, share ends), so
there is one set of sharing rules in the portal.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Min, QuerySet
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from agreements import services as agreement_services
from agreements.models import Agreement
from intel import correlation, stix
from intel.models import (
    CollectionEntry,
    Correlation,
    IntelShare,
    Sighting,
    StixObject,
    StixVersion,
    TaxiiStatus,
)
from portal import access, audit, reauth
from portal.models import Membership, Organisation
from portal.notifications import notify
from portal.vocabulary import TLP, DataCategory
from resources.models import ShareStatus
from resources.services import REAUTH_TLP, end_share, named_recipients, sharing_problem

#: What anyone who sees an object may post about it, without the programme manager role.
FEEDBACK_TYPES = frozenset({"sighting", "opinion"})


@dataclass
class ImportResult:
    """What an import stored: objects with a new version, ids already held, and (for TAXII,
    which judges each object alone) the objects refused and why."""

    stored: list[StixObject] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def stored_ids(self) -> list[str]:
        return [obj.stix_id for obj in self.stored]


# --- Storing objects ----------------------------------------------------------------------------


def import_objects(
    *,
    actor,
    raw,
    default_tlp: str = TLP.AMBER,
    data_category: str = DataCategory.THREAT_INTELLIGENCE,
    via: str = "upload",
    partial: bool = False,
    allowed_types: frozenset[str] | None = None,
) -> ImportResult:
    """Store STIX objects (a bundle, an envelope, a list or one object) as the actor's
    organisation's, each version kept.

    By default the input is refused whole when any object is bad: BundleRefused lists one
    problem per bad object (its id and why), and nothing is stored. With partial=True (TAXII)
    every object is judged alone and the refused ones are reported in the result.
    """
    membership = _active_membership(actor)
    if default_tlp not in TLP.values:
        raise stix.BundleRefused([f"{default_tlp!r} is not a TLP."])
    if data_category not in DataCategory.values:
        raise stix.BundleRefused([f"{data_category!r} is not a data category."])
    objects = stix.read_objects(raw)
    owner = membership.organisation
    checked, failures = _check_all(
        objects, actor=actor, owner=owner, default_tlp=default_tlp, allowed_types=allowed_types
    )
    if not membership.programme_manager and any(
        c.data["type"] not in FEEDBACK_TYPES for c in checked
    ):
        raise PermissionDenied(
            gettext("Only programme managers add intelligence; anyone reports sightings.")
        )
    if failures and not partial:
        raise stix.BundleRefused([f"{sid}: {why}" for sid, why in failures])
    result = ImportResult(failures=failures)
    with transaction.atomic():
        for item in checked:
            try:
                with transaction.atomic():
                    obj, outcome = _store(item, actor=actor, owner=owner, category=data_category)
            except ValueError as problem:
                result.failures.append((item.stix_id, str(problem)))
                continue
            if outcome == "unchanged":
                result.unchanged.append(item.stix_id)
            else:
                result.stored.append(obj)
                audit.record(
                    actor,
                    "intel.object_added" if outcome == "created" else "intel.version_added",
                    obj,
                    stix_id=obj.stix_id,
                    modified=stix.timestamp(obj.modified),
                    tlp=obj.tlp,
                    via=via,
                )
        if result.failures and not partial:
            transaction.set_rollback(True)
            raise stix.BundleRefused([f"{sid}: {why}" for sid, why in result.failures])
        for obj in result.stored:
            if obj.type == "sighting":
                _record_sighting(obj, actor=actor)
            elif obj.type == "opinion":
                _list_as_feedback(obj)
        audit.record(
            actor,
            "intel.imported",
            organisation=owner,
            via=via,
            stored=len(result.stored),
            unchanged=len(result.unchanged),
            refused=len(result.failures),
        )
    return result


def create_indicator(
    *,
    actor,
    name: str,
    pattern: str,
    valid_from: datetime.datetime,
    valid_until: datetime.datetime | None = None,
    indicator_types: Iterable[str] = (),
    kill_chain_phases: Iterable[dict] = (),
    description: str = "",
    labels: Iterable[str] = (),
    tlp: str = TLP.AMBER,
    data_category: str = DataCategory.THREAT_INTELLIGENCE,
) -> StixObject:
    """A new indicator from the form, stored through the same path as any import."""
    problems = stix.validate_pattern(pattern)
    if problems:
        raise ValidationError({"pattern": problems})
    if valid_until is not None and valid_until <= valid_from:
        raise ValidationError({"valid_until": gettext("Valid until must be after valid from.")})
    now = stix.timestamp(timezone.now())
    data = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": now,
        "modified": now,
        "name": name,
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": stix.timestamp(valid_from),
    }
    optional = {
        "valid_until": stix.timestamp(valid_until) if valid_until else None,
        "indicator_types": list(indicator_types),
        "kill_chain_phases": list(kill_chain_phases),
        "description": description,
        "labels": list(labels),
    }
    data.update({key: value for key, value in optional.items() if value})
    try:
        result = import_objects(
            actor=actor, raw=data, default_tlp=tlp, data_category=data_category, via="form"
        )
    except stix.BundleRefused as refused:
        raise ValidationError([p.split(": ", 1)[-1] for p in refused.problems]) from None
    return result.stored[0]


def report_sighting(
    *,
    actor,
    sighted: StixObject,
    count: int = 1,
    first_seen: datetime.datetime | None = None,
    last_seen: datetime.datetime | None = None,
    anonymous: bool = False,
    tlp: str = TLP.AMBER,
    description: str = "",
) -> StixObject:
    """The actor's organisation saw what `sighted` describes: a STIX sighting, stored like any
    other object. Unless anonymous, it names the organisation where it was seen."""
    access.require(actor, "sight", sighted)
    if not 1 <= count <= 999_999_999:
        raise ValidationError({"count": gettext("Count is between 1 and 999,999,999.")})
    if first_seen and last_seen and last_seen < first_seen:
        raise ValidationError({"last_seen": gettext("Last seen cannot be before first seen.")})
    owner = actor.membership.organisation
    now = stix.timestamp(timezone.now())
    data = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid4()}",
        "created": now,
        "modified": now,
        "sighting_of_ref": sighted.stix_id,
        "count": count,
    }
    if first_seen:
        data["first_seen"] = stix.timestamp(first_seen)
    if last_seen:
        data["last_seen"] = stix.timestamp(last_seen)
    if description:
        data["description"] = description
    if not anonymous:
        data["where_sighted_refs"] = [stix.identity_id(owner)]
    try:
        result = import_objects(actor=actor, raw=data, default_tlp=tlp, via="sighting")
    except stix.BundleRefused as refused:
        raise ValidationError([p.split(": ", 1)[-1] for p in refused.problems]) from None
    return result.stored[0]


# --- Sharing --------------------------------------------------------------------------------


def share_object(
    *,
    actor,
    obj: StixObject,
    agreement: Agreement,
    recipient: Organisation,
    recipient_users: Iterable = (),
    reauthentication: reauth.Reauthentication | None = None,
    with_references: bool = False,
) -> list[IntelShare]:
    """Share an object with one partner under one agreement, when the resources' sharing
    rules allow it. With with_references, a report's (or grouping's) referenced objects of
    the same owner go along where the rules allow each of them (`reference_problems`)."""
    access.require(actor, "share", obj)
    with transaction.atomic():
        obj = StixObject.objects.select_for_update().get(pk=obj.pk)
        if obj.tlp in REAUTH_TLP:
            reauth.require_recent(reauthentication)
        problem = sharing_problem(obj, agreement, recipient) or _already_shared(obj, recipient)
        if problem:
            raise ValidationError(problem)
        people = named_recipients(obj, recipient, recipient_users)
        shares = [_create_share(obj, agreement, recipient, people, actor=actor)]
        if with_references:
            for ref in referenced_objects(obj):
                if reference_problem(ref, obj, agreement, recipient) is None:
                    ref_people = people if ref.tlp == TLP.RED else []
                    shares.append(_create_share(ref, agreement, recipient, ref_people, actor=actor))
        notify(
            _programme_managers(recipient) if obj.tlp != TLP.RED else people,
            kind="intel.shared",
            title=ngettext(
                "%(organisation)s shared %(count)s intelligence object with you",
                "%(organisation)s shared %(count)s intelligence objects with you",
                len(shares),
            )
            % {"organisation": obj.owner, "count": len(shares)},
            body=gettext("Under %(agreement)s: “%(object)s”.")
            % {"agreement": agreement.label, "object": obj},
            url=obj.get_absolute_url(),
            actor=actor,
        )
    return shares


def referenced_objects(obj: StixObject) -> list[StixObject]:
    """The objects of the same owner that a report or grouping references."""
    refs = _latest_data(obj).get("object_refs") or []
    return list(
        StixObject.objects.filter(owner_id=obj.owner_id, stix_id__in=refs).order_by("type", "name")
    )


def reference_problem(ref: StixObject, report: StixObject, agreement, recipient) -> str | None:
    """Why a referenced object would not go along with its report's share; None if it would."""
    if ref.tlp == TLP.RED and report.tlp != TLP.RED:
        return gettext("TLP:RED goes to named people only: share it on its own.")
    return sharing_problem(ref, agreement, recipient) or _already_shared(ref, recipient)


def share_options(obj: StixObject):
    """Every (agreement, party) the owner could share with, and why each one cannot."""
    from resources.services import share_options_for

    active = IntelShare.objects.filter(object=obj, status=ShareStatus.ACTIVE)
    return share_options_for(obj, set(active.values_list("recipient_id", flat=True)))


def share_into_agreement(
    *, actor, objects: Iterable[StixObject], agreement: Agreement
) -> dict[StixObject, str | None]:
    """TAXII POST to an agreement's collection: share each object with every other party the
    rules allow (never RED, which names people).

    Returns, per object, None when it is in the actor's view of the collection now (shared
    here, or already), or why it is not.
    """
    outcomes: dict[StixObject, str | None] = {}
    parties = [p.organisation for p in agreement.parties.select_related("organisation")]
    for obj in objects:
        if obj.tlp == TLP.RED:
            outcomes[obj] = "TLP:RED goes to named people only: share it in the portal."
            continue
        if not access.can(actor, "share", obj):
            outcomes[obj] = "Only the owner's programme managers share it."
            continue
        problem, shared = None, False
        for party in parties:
            if party.pk == obj.owner_id:
                continue
            active = (
                IntelShare.objects.filter(object=obj, recipient=party, status=ShareStatus.ACTIVE)
                .select_related("agreement")
                .first()
            )
            if active is not None:
                if active.agreement.reference == agreement.reference:
                    shared = True
                else:
                    problem = problem or _already_shared(obj, party)
                continue
            problem_here = sharing_problem(obj, agreement, party)
            if problem_here:
                problem = problem or problem_here
                continue
            _create_share(obj, agreement, party, [], actor=actor)
            shared = True
        outcomes[obj] = None if shared else (problem or "No party can receive it.")
    return outcomes


def add_to_collection(*, actor, raw, agreement: Agreement | None) -> TaxiiStatus:
    """TAXII POST: store the envelope's objects, each judged alone, and for an agreement's
    collection share them into it; the outcome per object is kept for the poster's status
    requests. With no agreement it is the poster's own sightings collection, which takes
    sightings and opinions only.

    Raises BundleRefused when the envelope as a whole cannot be read (not JSON, too large,
    no objects), and PermissionDenied when the actor may not add to the collection.
    """
    objects = stix.read_objects(raw, envelope=True)
    membership = _active_membership(actor)
    if agreement is not None:
        _require_collection_writer(actor, membership, agreement)
    with transaction.atomic():
        result = import_objects(
            actor=actor,
            raw=objects,
            partial=True,
            via="taxii",
            allowed_types=None if agreement is not None else FEEDBACK_TYPES,
        )
        refused = _refused_positions(objects, result.failures)
        outcomes = {}
        if agreement is not None:
            posted = {
                raw_obj["id"]
                for index, raw_obj in enumerate(objects)
                if index not in refused and isinstance(raw_obj, dict)
            }
            held = StixObject.objects.filter(owner=membership.organisation, stix_id__in=posted)
            outcomes = {
                obj.stix_id: problem
                for obj, problem in share_into_agreement(
                    actor=actor, objects=held, agreement=agreement
                ).items()
            }
        successes, failures = [], []
        for index, raw_obj in enumerate(objects):
            detail = _status_detail(raw_obj, index)
            problem = refused.get(index) or outcomes.get(detail["id"])
            if index in refused:
                failures.append({**detail, "message": problem})
            elif problem:
                failures.append(
                    {
                        **detail,
                        "message": f"Stored in your organisation's intelligence, but not added "
                        f"to this collection: {problem}",
                    }
                )
            else:
                successes.append(detail)
        status = TaxiiStatus.objects.create(
            uuid=uuid.uuid4(), requested_by=actor, successes=successes, failures=failures
        )
    return status


def revoke_share(*, actor, share: IntelShare, reason: str = "") -> IntelShare:
    """End a share at once: the object leaves the partner's views and TAXII collections."""
    access.require(actor, "share", share.object)
    with transaction.atomic():
        share = (
            IntelShare.objects.select_for_update()
            .select_related("object", "agreement", "recipient")
            .get(pk=share.pk)
        )
        if share.status == ShareStatus.REVOKED:
            raise ValidationError(gettext("This share is already revoked."))
        _end(share, ShareStatus.REVOKED, actor=actor, reason=reason or "Revoked by the owner")
        audit.record(
            actor,
            "intel.share_revoked",
            share.object,
            share=share.pk,
            recipient=share.recipient.slug,
            agreement=share.agreement.label,
            reason=reason,
        )
    return share


# --- Agreement hooks: access never outlives the agreement ---------------------------------------


def end_shares_of(agreement: Agreement) -> None:
    for share in IntelShare.objects.filter(
        agreement=agreement, status=ShareStatus.ACTIVE
    ).select_related("object", "agreement"):
        reason = f"{agreement.label} {agreement.get_status_display().lower()}"
        _end(share, ShareStatus.REVOKED, actor=None, reason=reason)
        audit.record(
            None, "intel.share_ended", share.object, share=share.pk, agreement=agreement.label
        )


def resync_shares_of(agreement: Agreement) -> None:
    shared = StixObject.objects.filter(
        shares__agreement=agreement, shares__status=ShareStatus.ACTIVE
    ).distinct()
    for obj in shared:
        access.sync_object(obj)


def carry_shares_over(old: Agreement, new: Agreement) -> None:
    """An amendment replaced the agreement: shares continue where the new terms allow. The
    collection keeps its id (it follows the reference), so pollers notice nothing."""
    for share in IntelShare.objects.filter(agreement=old, status=ShareStatus.ACTIVE).select_related(
        "object", "recipient"
    ):
        problem = sharing_problem(share.object, new, share.recipient)
        if problem is None:
            share.agreement = new
            share.save(update_fields=["agreement"])
            access.sync_object(share.object)
        else:
            _end(share, ShareStatus.SUSPENDED, actor=None, reason=problem)
            audit.record(
                None, "intel.share_suspended", share.object, share=share.pk, reason=problem
            )


# --- Reading ------------------------------------------------------------------------------


def export_bundle(user, objects=None, *, via: str, query: dict | None = None) -> dict:
    """A STIX bundle of the newest version of every object the user may see (or of the
    given visible objects), with the TLP marking definitions and the owners' identities.

    An export takes intelligence out of the portal: it is recorded, with what was asked for
    (`query`: the filters and search, as sent) and how many objects went."""
    visible = access.visible_to(user, StixObject.objects.all())
    if isinstance(objects, QuerySet):
        visible = visible.filter(pk__in=objects.values("pk"))  # a filtered list, as a subquery
    elif objects is not None:
        visible = visible.filter(pk__in=[o.pk for o in objects])
    versions = StixVersion.objects.filter(object__in=visible.values("pk"), is_last=True)
    owners = Organisation.objects.filter(pk__in=visible.values("owner_id"))
    content = [v.data for v in versions.order_by("object__added_at", "pk").iterator(2000)]
    from intel import markings

    membership = getattr(user, "membership", None)
    audit.record(
        user,
        "intel.exported",
        organisation=membership.organisation if membership else None,
        via=via,
        # What was asked for, bounded: a query string is whatever the client sent.
        query={name[:40]: value[:200] for name, value in list((query or {}).items())[:20] if value},
        exported=len(content),
    )
    return {
        "type": "bundle",
        "id": f"bundle--{uuid.uuid4()}",
        "objects": [*markings.definitions(), *map(stix.identity_of, owners), *content],
    }


def sighting_summary(user, obj: StixObject) -> list[dict]:
    """Who used this object, for its owner: per partner organisation (or "anonymous"), the
    number of sightings and the first and last time seen. Only sightings that reached the
    owner count: named ones the owner may see, and anonymous ones their TLP let through."""
    if not access.can(user, "view_access", obj):
        return []
    visible = access.visible_to(user, StixObject.objects.all())
    rows = (
        Sighting.objects.filter(sighted=obj, reported_to_owner=True)
        .filter(sighted_by__isnull=True)
        .union(
            Sighting.objects.filter(sighted=obj, sighting__in=visible.values("pk")).exclude(
                sighted_by__isnull=True
            )
        )
    )
    summary: dict = {}
    organisations = Organisation.objects.in_bulk({r.sighted_by_id for r in rows if r.sighted_by_id})
    for row in rows:
        key = row.sighted_by_id
        entry = summary.setdefault(
            key,
            {
                "organisation": organisations.get(key),
                "sightings": 0,
                "count": 0,
                "first_seen": None,
                "last_seen": None,
            },
        )
        entry["sightings"] += 1
        entry["count"] += row.count
        for name, pick in (("first_seen", min), ("last_seen", max)):
            value = getattr(row, name)
            if value:
                entry[name] = pick(filter(None, [entry[name], value]))
    return sorted(
        summary.values(), key=lambda e: (e["organisation"] is None, str(e["organisation"]))
    )


def latest_data(obj: StixObject) -> dict:
    return _latest_data(obj)


# --- Helpers --------------------------------------------------------------------------------


def _check_all(objects, *, actor, owner, default_tlp, allowed_types):
    """Each object checked alone, then the references a sighting or opinion makes."""
    others = {stix.identity_id(o) for o in Organisation.objects.exclude(pk=owner.pk).only("pk")}
    checked, failures, seen = [], [], set()
    own_identity = stix.identity_id(owner)
    for index, raw in enumerate(objects):
        label = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
        label = label or f"object {index + 1}"
        try:
            if isinstance(raw, dict) and _is_ignorable(raw, own_identity):
                continue
            if allowed_types is not None and raw.get("type") not in allowed_types:
                raise ValueError(f"this collection takes only {', '.join(sorted(allowed_types))}.")
            item = stix.check(raw, owner=owner, default_tlp=default_tlp, other_identities=others)
            if (item.stix_id, item.data.get("modified")) in seen:
                raise ValueError("it appears twice in the input.")
            seen.add((item.stix_id, item.data.get("modified")))
            checked.append(item)
        except ValueError as problem:
            failures.append((label, str(problem)))
    in_input = {item.stix_id for item in checked}
    kept = []
    for item in checked:
        problem = _reference_problem(item.data, actor=actor, in_input=in_input)
        if problem:
            failures.append((item.stix_id, problem))
        else:
            kept.append(item)
    return kept, failures


def _is_ignorable(raw: dict, own_identity: str) -> bool:
    """The TLP marking definitions and the owner's own identity are the portal's already."""
    if raw.get("type") == "marking-definition":
        from intel import markings

        if markings.is_known_marking(str(raw.get("id"))):
            return True
        raise ValueError(
            f"it is the marking {raw.get('id')}, which is not a TLP marking this portal knows."
        )
    return raw.get("type") == "identity" and raw.get("id") == own_identity


def _reference_problem(data: dict, *, actor, in_input: set[str]) -> str | None:
    """A sighting or opinion must be about objects the poster may see. A reference to an
    object hidden from them fails exactly like a reference to one that does not exist."""
    if data["type"] == "sighting":
        refs = [("sighting_of_ref", data.get("sighting_of_ref"))]
    elif data["type"] == "opinion":
        refs = [("object_refs", ref) for ref in data.get("object_refs") or []]
    else:
        return None
    for name, ref in refs:
        if ref in in_input:
            continue
        if not visible_by_stix_id(actor, ref).exists():
            return f"{name} names {ref}, which is not an object you can see."
    return None


def visible_by_stix_id(user, stix_id):
    return access.visible_to(user, StixObject.objects.filter(stix_id=str(stix_id)))


def _store(item: stix.Checked, *, actor, owner, category) -> tuple[StixObject, str]:
    data = item.data
    now = timezone.now()
    modified = _version_time(data, now)
    created = stix.parse_timestamp(data["created"]) if "created" in data else modified
    obj = StixObject.objects.select_for_update().filter(owner=owner, stix_id=item.stix_id).first()
    if obj is not None:
        same = obj.versions.filter(modified=modified).first()
        if same is not None:
            if same.data == data:
                return obj, "unchanged"
            raise ValueError(
                "a different object with this id and modified time is held already; "
                "a new version needs a new modified time."
            )
        if data["type"] in stix.SCO_TYPES and _latest_data(obj) == data:
            return obj, "unchanged"
        if obj.type != data["type"]:
            raise ValueError(f"this id is held already as a {obj.type}.")
    outcome = "version" if obj is not None else "created"
    if obj is None:
        obj = StixObject(
            stix_id=item.stix_id,
            type=data["type"],
            owner=owner,
            data_category=category,
            created_by=actor,
        )
    version = StixVersion(
        modified=modified,
        created=created,
        spec_version=data.get("spec_version", "2.1"),
        revoked=bool(data.get("revoked")),
        data=data,
        added_by=actor,
    )
    if outcome == "created" or modified > obj.modified:
        _describe(obj, data, modified, item.tlp)
    obj.save()
    version.object = obj
    version.save()
    _mark_first_and_last(obj)
    _index_keys(obj)
    if outcome == "version":
        _add_version_to_shared_views(obj, version, now)
        _suspend_unfit_shares(obj, actor=actor)
    access.sync_object(obj)
    return obj, outcome


def _version_time(data: dict, now) -> datetime.datetime:
    if "modified" in data:
        return stix.parse_timestamp(data["modified"])
    if "created" in data:
        return stix.parse_timestamp(data["created"])
    return now  # a cyber-observable carries no time: the version is the time it was added


def _describe(obj: StixObject, data: dict, modified, tlp: str) -> None:
    """Copy the newest version's facts onto the object, for lists, search and correlation."""
    obj.modified = modified
    obj.revoked = bool(data.get("revoked"))
    obj.tlp = tlp
    obj.name = _name_of(data)[:250]
    obj.description = str(data.get("description", ""))[:10_000]
    obj.pattern = str(data.get("pattern", ""))[:10_000]
    obj.observable_values = correlation.observable_values(data)[:10_000]


def _name_of(data: dict) -> str:
    if data.get("name"):
        return str(data["name"])
    stix_type = data["type"]
    if stix_type == "relationship":
        return f"{data.get('source_ref')} {data.get('relationship_type')} {data.get('target_ref')}"
    if stix_type == "sighting":
        return f"Sighting of {data.get('sighting_of_ref')}"
    if stix_type in ("note", "opinion"):
        return (
            str(data.get("abstract") or data.get("explanation") or data.get("content") or "")[:120]
            or stix_type.capitalize()
        )
    for prop in ("value", "key", "path", "number"):
        if data.get(prop) is not None:
            return str(data[prop])
    if data.get("hashes"):
        name, value = next(iter(data["hashes"].items()))
        return f"{name} {value}"
    return data["id"]


def _mark_first_and_last(obj: StixObject) -> None:
    bounds = obj.versions.aggregate(first=Min("modified"), last=Max("modified"))
    obj.versions.update(is_first=False, is_last=False)
    obj.versions.filter(modified=bounds["first"]).update(is_first=True)
    obj.versions.filter(modified=bounds["last"]).update(is_last=True)


def _index_keys(obj: StixObject) -> None:
    keys = correlation.keys_of(_latest_data(obj))
    Correlation.objects.filter(object=obj).exclude(value__in=keys).delete()
    Correlation.objects.bulk_create(
        [Correlation(object=obj, value=key) for key in keys], ignore_conflicts=True
    )


def _latest_data(obj: StixObject) -> dict:
    version = obj.versions.filter(is_last=True).only("data").first()
    return version.data if version else {}


def _already_shared(obj: StixObject, recipient: Organisation) -> str | None:
    if IntelShare.objects.filter(
        object=obj, recipient=recipient, status=ShareStatus.ACTIVE
    ).exists():
        return gettext("It is already shared with %(organisation)s.") % {"organisation": recipient}
    return None


def _create_share(obj, agreement, recipient, people, *, actor) -> IntelShare:
    share = IntelShare.objects.create(
        object=obj, recipient=recipient, agreement=agreement, shared_by=actor
    )
    share.recipient_users.set(people)
    now = share.shared_at
    versions = list(obj.versions.all())
    CollectionEntry.objects.bulk_create(
        [
            CollectionEntry(
                collection=agreement.reference,
                viewer=recipient,
                version=v,
                object=obj,
                share=share,
                date_added=now,
            )
            for v in versions
        ]
    )
    # The owner's view of the collection shows what it shared there, once.
    CollectionEntry.objects.bulk_create(
        [
            CollectionEntry(
                collection=agreement.reference,
                viewer_id=obj.owner_id,
                version=v,
                object=obj,
                date_added=now,
            )
            for v in versions
        ],
        ignore_conflicts=True,
    )
    access.sync_object(obj)
    audit.record(
        actor,
        "intel.shared",
        obj,
        share=share.pk,
        recipient=recipient.slug,
        agreement=agreement.label,
        tlp=obj.tlp,
        named_users=sorted(u.get_username() for u in people),
    )
    return share


def _add_version_to_shared_views(obj: StixObject, version: StixVersion, now) -> None:
    """A new version reaches every view the object is shared into, now."""
    shares = list(
        IntelShare.objects.filter(object=obj, status=ShareStatus.ACTIVE).select_related("agreement")
    )
    entries = [
        CollectionEntry(
            collection=s.agreement.reference,
            viewer_id=s.recipient_id,
            version=version,
            object=obj,
            share=s,
            date_added=now,
        )
        for s in shares
    ]
    entries += [
        CollectionEntry(
            collection=reference,
            viewer_id=obj.owner_id,
            version=version,
            object=obj,
            date_added=now,
        )
        for reference in {s.agreement.reference for s in shares}
    ]
    CollectionEntry.objects.bulk_create(entries, ignore_conflicts=True)
    if obj.type in FEEDBACK_TYPES:
        CollectionEntry.objects.get_or_create(
            collection=SIGHTINGS,
            viewer_id=obj.owner_id,
            version=version,
            defaults={"object": obj, "date_added": now},
        )


def _suspend_unfit_shares(obj: StixObject, *, actor) -> None:
    """A new version raised the TLP above what a share's agreement allows: that share ends."""
    for share in IntelShare.objects.filter(object=obj, status=ShareStatus.ACTIVE).select_related(
        "agreement", "recipient"
    ):
        problem = sharing_problem(obj, share.agreement, share.recipient)
        if problem is None and obj.tlp == TLP.RED and not share.recipient_users.exists():
            problem = gettext("TLP:RED needs named recipients; this share names none.")
        if problem:
            _end(share, ShareStatus.SUSPENDED, actor=actor, reason=problem)
            audit.record(actor, "intel.share_suspended", obj, share=share.pk, reason=problem)


def _end(share: IntelShare, status: str, *, actor, reason: str) -> None:
    """End a share and take its object out of the recipient's view of the collection (and out
    of the owner's, when nothing of it stays shared there)."""
    end_share(share, status, actor=actor, reason=reason)
    CollectionEntry.objects.filter(share=share).delete()
    reference = share.agreement.reference
    still = IntelShare.objects.filter(
        object_id=share.object_id, status=ShareStatus.ACTIVE, agreement__reference=reference
    )
    if not still.exists():
        CollectionEntry.objects.filter(
            collection=reference, viewer_id=share.object.owner_id, object_id=share.object_id
        ).delete()
    access.sync_object(share.object)


#: The collection key of an organisation's own sightings and opinions.
SIGHTINGS = "sightings"


def _record_sighting(obj: StixObject, *, actor) -> None:
    """Derive the sighting's facts, list it in the poster's sightings collection, and pass it
    to the producer where its TLP allows: named ones as objects shared back under the
    agreement the poster received the object by; anonymous ones as a count only."""
    data = _latest_data(obj)
    sighted = visible_by_stix_id(actor, data.get("sighting_of_ref")).order_by("-added_at").first()
    if sighted is None:
        return  # about an object of the same input that is not visible yet: nothing to count
    identities = {stix.identity_id(o): o for o in Organisation.objects.all()}
    where = [identities[ref] for ref in data.get("where_sighted_refs") or [] if ref in identities]
    # Only the poster's own organisation can be named as where it was seen.
    where = [o for o in where if o.pk == obj.owner_id]
    share = (
        IntelShare.objects.live()
        .filter(object=sighted, recipient_id=obj.owner_id)
        .select_related("agreement")
        .first()
    )
    agreement = share.agreement if share else None
    reaches = sighted.owner_id == obj.owner_id or (
        agreement is not None
        and obj.tlp != TLP.RED
        and sharing_problem(obj, agreement, sighted.owner) is None
    )
    Sighting.objects.update_or_create(
        sighting=obj,
        defaults={
            "sighted": sighted,
            "sighted_by": where[0] if where else None,
            "count": int(data.get("count", 1) or 1),
            "first_seen": _maybe_time(data.get("first_seen")),
            "last_seen": _maybe_time(data.get("last_seen")),
            "reported_to_owner": reaches,
        },
    )
    _list_as_feedback(obj)
    passes_back = reaches and where and agreement is not None and sighted.owner_id != obj.owner_id
    if passes_back and not _already_shared(obj, sighted.owner):
        _create_share(obj, agreement, sighted.owner, [], actor=actor)


def _list_as_feedback(obj: StixObject) -> None:
    """Every version of a sighting or opinion is in the poster's own sightings collection."""
    for version in obj.versions.all():
        CollectionEntry.objects.get_or_create(
            collection=SIGHTINGS,
            viewer_id=obj.owner_id,
            version=version,
            defaults={"object": obj, "date_added": version.added_at},
        )


def _require_collection_writer(actor, membership: Membership, agreement: Agreement) -> None:
    """Adding to an agreement's collection shares into it: the programme managers of a party
    to the live agreement only."""
    is_party = access.visible_to(
        actor,
        Agreement.objects.live().filter(
            reference=agreement.reference, parties__organisation=membership.organisation
        ),
    ).exists()
    if not is_party:
        raise PermissionDenied(gettext("Only parties to a live agreement add to its collection."))
    if not membership.programme_manager:
        raise PermissionDenied(gettext("Only programme managers add intelligence to a collection."))


def _refused_positions(objects: list, failures: list[tuple[str, str]]) -> dict[int, str]:
    """Which input objects an import refused, by position. A failure names an object by its
    id (or "object N"); when an id occurs more than once, the later occurrences are the
    refused ones (a duplicate is refused after its first occurrence is taken)."""
    labels = [_label_of(raw, index) for index, raw in enumerate(objects)]
    refused: dict[int, str] = {}
    for label, message in failures:
        for index in reversed(range(len(labels))):
            if labels[index] == label and index not in refused:
                refused[index] = message
                break
    return refused


def _label_of(raw, index: int) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        return raw["id"]
    return f"object {index + 1}"


def _status_detail(raw, index: int) -> dict:
    """A TAXII status detail: the object's id and, where it has one, its version."""
    detail = {"id": _label_of(raw, index)}
    if isinstance(raw, dict):
        version = raw.get("modified") or raw.get("created")
        if isinstance(version, str):
            detail["version"] = version
    return detail


def _maybe_time(text):
    try:
        return stix.parse_timestamp(text) if text else None
    except ValueError:
        return None


def _active_membership(actor) -> Membership:
    membership = getattr(actor, "membership", None)
    if not (
        actor.is_authenticated
        and actor.is_active
        and membership is not None
        and membership.organisation.is_active
    ):
        raise PermissionDenied(gettext("Only members of an active organisation add intelligence."))
    return membership


def _programme_managers(organisation: Organisation) -> list:
    return [
        m.user
        for m in Membership.objects.filter(
            organisation=organisation, programme_manager=True
        ).select_related("user")
    ]


def ending_consequences(agreement: Agreement, viewer) -> list[str]:
    """What an agreement's end takes from the intelligence the viewer's organisation shared
    under it, and from what was shared with it."""
    organisation = getattr(getattr(viewer, "membership", None), "organisation", None)
    if organisation is None:
        return []
    live = IntelShare.objects.filter(agreement=agreement, status=ShareStatus.ACTIVE)
    sentences = []
    given = live.filter(object__owner=organisation).select_related("recipient")
    objects = {share.object_id for share in given}
    if objects:
        recipients = sorted({str(share.recipient) for share in given})
        sentences.append(
            ngettext(
                "The %(count)d intelligence object your organisation shared under it becomes "
                "invisible to %(recipients)s.",
                "The %(count)d intelligence objects your organisation shared under it become "
                "invisible to %(recipients)s.",
                len(objects),
            )
            % {"count": len(objects), "recipients": ", ".join(recipients)}
        )
    received = live.filter(recipient=organisation).values("object_id").distinct().count()
    if received:
        sentences.append(
            ngettext(
                "The %(count)d intelligence object partners shared with %(organisation)s "
                "under it becomes invisible to %(organisation)s.",
                "The %(count)d intelligence objects partners shared with %(organisation)s "
                "under it become invisible to %(organisation)s.",
                received,
            )
            % {"count": received, "organisation": organisation}
        )
    return sentences


agreement_services.ended_hooks.append(end_shares_of)
agreement_services.ending_consequence_hooks.append(ending_consequences)
agreement_services.last_day_moved_hooks.append(resync_shares_of)
agreement_services.superseded_hooks.append(carry_shares_over)

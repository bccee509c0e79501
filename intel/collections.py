"""TAXII collections: what each organisation's view of intelligence is made of.

- One collection per live agreement the requester's organisation is party to, titled by its
  reference. Its id follows the reference, so an amendment keeps it.
- The organisation's own sightings collection: the sightings and opinions it posted.

Every read goes through `entries`, which filters by the access layer, so a version the
requester may not see is absent from objects, manifest, versions, counts and date headers
alike. The collection itself is found only among the requester's live agreements, so an
agreement that ended (even before `tick` ran) has no collection any more.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from agreements.models import Agreement
from intel.models import CollectionEntry, StixObject
from intel.services import SIGHTINGS
from intel.stix import NAMESPACE
from portal import access
from portal.models import Organisation


@dataclass(frozen=True)
class Collection:
    id: str
    key: str  # the agreement's reference, or SIGHTINGS
    title: str
    description: str
    viewer: Organisation
    agreement: Agreement | None
    can_write: bool

    @property
    def is_sightings(self) -> bool:
        return self.key == SIGHTINGS


def agreement_collection_id(reference: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"agreement:{reference}"))


def sightings_collection_id(organisation: Organisation) -> str:
    return str(uuid.uuid5(NAMESPACE, f"sightings:{organisation.pk}"))


def collections_for(user) -> list[Collection]:
    """The requester's collections: its live agreements', then its own sightings."""
    organisation = _organisation(user)
    if organisation is None:
        return []
    found, seen = [], set()
    for agreement in _live_agreements(user, organisation):
        if agreement.reference not in seen:
            seen.add(agreement.reference)
            found.append(_agreement_collection(user, agreement))
    return [*found, _sightings_collection(organisation)]


def find(user, collection_id: str) -> Collection | None:
    """The requester's collection with this id; None for one that is not theirs or none.

    Every TAXII request asks it, so it reads the references alone, then loads the one
    agreement whose collection this is: a partner party to a hundred agreements pays for
    one.
    """
    organisation = _organisation(user)
    if organisation is None:
        return None
    wanted = str(collection_id)
    if wanted == sightings_collection_id(organisation):
        return _sightings_collection(organisation)
    for reference, pk in _live_agreements(user, organisation).values_list("reference", "pk"):
        if agreement_collection_id(reference) == wanted:
            # The newest live version comes first; a later row is an older version. Its pk
            # came out of the access layer's query just now.
            return _agreement_collection(user, Agreement.objects.get(pk=pk))
    return None


def _organisation(user) -> Organisation | None:
    membership = getattr(user, "membership", None)
    if membership is None or not membership.organisation.is_active:
        return None
    return membership.organisation


def _live_agreements(user, organisation: Organisation) -> QuerySet[Agreement]:
    """The live agreements the organisation is party to, each reference's newest first."""
    return (
        access.visible_to(user, Agreement.objects.live())
        .filter(parties__organisation=organisation)
        .order_by("reference", "-version")
    )


def _agreement_collection(user, agreement: Agreement) -> Collection:
    return Collection(
        id=agreement_collection_id(agreement.reference),
        key=agreement.reference,
        title=agreement.reference,
        description=_("Intelligence shared under %(label)s: %(title)s")
        % {"label": agreement.label, "title": agreement.title},
        viewer=user.membership.organisation,
        agreement=agreement,
        can_write=bool(user.membership.programme_manager),
    )


def _sightings_collection(organisation: Organisation) -> Collection:
    return Collection(
        id=sightings_collection_id(organisation),
        key=SIGHTINGS,
        title=_("%(organisation)s sightings") % {"organisation": organisation.slug},
        description=_("The sightings and opinions your organisation reported."),
        viewer=organisation,
        agreement=None,
        can_write=True,
    )


def entries(user, collection: Collection, *where) -> QuerySet[CollectionEntry]:
    """The versions in the requester's view of the collection that meet the conditions,
    oldest addition first."""
    # Decided entry by entry along the poll index, so page 300 costs what page 1 does.
    visible = access.visible_through(user, "object", StixObject)
    return CollectionEntry.objects.filter(
        *where, visible, collection=collection.key, viewer=collection.viewer
    ).order_by("date_added", "id")

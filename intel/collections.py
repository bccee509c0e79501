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
    membership = getattr(user, "membership", None)
    if membership is None or not membership.organisation.is_active:
        return []
    organisation = membership.organisation
    agreements = (
        access.visible_to(user, Agreement.objects.live())
        .filter(parties__organisation=organisation)
        .order_by("reference", "-version")
    )
    may_share = bool(membership.programme_manager)
    found, seen = [], set()
    for agreement in agreements:
        if agreement.reference in seen:
            continue
        seen.add(agreement.reference)
        found.append(
            Collection(
                id=agreement_collection_id(agreement.reference),
                key=agreement.reference,
                title=agreement.reference,
                description=f"Intelligence shared under {agreement.label}: {agreement.title}",
                viewer=organisation,
                agreement=agreement,
                can_write=may_share,
            )
        )
    found.append(
        Collection(
            id=sightings_collection_id(organisation),
            key=SIGHTINGS,
            title=f"{organisation.slug} sightings",
            description="The sightings and opinions your organisation reported.",
            viewer=organisation,
            agreement=None,
            can_write=True,
        )
    )
    return found


def find(user, collection_id: str) -> Collection | None:
    """The requester's collection with this id; None for one that is not theirs or none."""
    for collection in collections_for(user):
        if collection.id == str(collection_id):
            return collection
    return None


def entries(user, collection: Collection) -> QuerySet[CollectionEntry]:
    """The versions in the requester's view of the collection, oldest addition first."""
    visible = access.visible_to(user, StixObject.objects.all())
    return (
        CollectionEntry.objects.filter(collection=collection.key, viewer=collection.viewer)
        .filter(object__in=visible.values("pk"))
        .order_by("date_added", "id")
    )

"""Every write to resources: upload, versions, metadata, sharing and revocation.

Each function checks access, validates, mutates inside one transaction, syncs the grants and
records an audit event. Sharing rules live in `sharing_problem`, which the share dialog uses
too, so what the dialog offers and what the service accepts can never differ.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from agreements import services as agreement_services
from agreements.models import Agreement
from portal import access, audit, reauth
from portal.models import Membership, Organisation
from portal.notifications import notify
from portal.vocabulary import TLP, DataCategory
from resources import files
from resources.models import Resource, ResourceVersion, Share, ShareStatus

User = get_user_model()

METADATA_FIELDS = {"title", "description", "kind", "data_category", "tlp", "tags"}
#: Sharing these needs the person to confirm who they are at that moment.
REAUTH_TLP = {TLP.RED, TLP.AMBER_STRICT}


# --- Resources and versions ------------------------------------------------------------------


def create_resource(*, actor, file, note: str = "", **metadata) -> Resource:
    """Create a resource owned by the actor's organisation, with its first file."""
    membership = _programme_manager(actor)
    _check_metadata(metadata)
    checked = files.check_upload(file, kind=metadata.get("kind", ""))
    with transaction.atomic():
        resource = Resource(owner=membership.organisation, created_by=actor, **metadata)
        resource.full_clean()
        resource.save()
        version = _store_version(resource, actor, file, checked, note)
        access.sync_object(resource)
        audit.record(
            actor,
            "resource.created",
            resource,
            tlp=resource.tlp,
            sha256=version.sha256,
            size=version.size,
            content_type=version.content_type,
        )
    return resource


def add_version(*, actor, resource: Resource, file, note: str = "") -> ResourceVersion:
    """Upload a new file for the resource; earlier versions stay available."""
    access.require(actor, "change", resource)
    checked = files.check_upload(file, kind=resource.kind)
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        version = _store_version(resource, actor, file, checked, note)
        audit.record(
            actor,
            "resource.version_added",
            resource,
            version=version.number,
            sha256=version.sha256,
            size=version.size,
        )
    return version


def update_resource(*, actor, resource: Resource, **changes) -> Resource:
    """Change metadata. Raising the TLP suspends the live shares that no longer fit."""
    access.require(actor, "change", resource)
    _check_metadata(changes)
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        before = {name: getattr(resource, name) for name in changes}
        for name, value in changes.items():
            setattr(resource, name, value)
        resource.full_clean()
        resource.save()
        changed = {k: [before[k], v] for k, v in changes.items() if before[k] != v}
        audit.record(actor, "resource.updated", resource, changes=changed)
        if "tlp" in changed or "data_category" in changed:
            _suspend_unfit_shares(resource, actor=actor)
        access.sync_object(resource)
    return resource


# --- Sharing ---------------------------------------------------------------------------------


def sharing_problem(
    resource,
    agreement: Agreement,
    recipient: Organisation,
    on: datetime.date | None = None,
) -> str | None:
    """The rule that forbids this share, in words; None when it is allowed.

    resource is anything an organisation owns and shares with an owner, a data category
    and a TLP: a resource, or an intelligence object (intel reuses these rules).
    """
    label = agreement.label
    noun = getattr(resource, "sharing_noun", "resource")
    if recipient.pk == resource.owner_id:
        return gettext("%(organisation)s owns this %(noun)s.") % {
            "organisation": recipient,
            "noun": noun,
        }
    if not agreement.is_live(on):
        return gettext("%(agreement)s is not in force.") % {"agreement": label}
    parties = set(agreement.parties.values_list("organisation_id", flat=True))
    if resource.owner_id not in parties:
        return gettext("%(organisation)s is not a party to %(agreement)s.") % {
            "organisation": resource.owner,
            "agreement": label,
        }
    if recipient.pk not in parties:
        return gettext("%(organisation)s is not a party to %(agreement)s.") % {
            "organisation": recipient,
            "agreement": label,
        }
    if not agreement.covers(resource.data_category):
        category = DataCategory(resource.data_category).label.lower()
        return gettext("%(agreement)s does not cover %(category)s.") % {
            "agreement": label,
            "category": category,
        }
    if not agreement.allows_tlp(resource.tlp):
        return gettext("%(agreement)s caps TLP at %(ceiling)s; this %(noun)s is %(tlp)s.") % {
            "agreement": label,
            "ceiling": TLP(agreement.tlp_ceiling).label.removeprefix("TLP:"),
            "noun": noun,
            "tlp": TLP(resource.tlp).label.removeprefix("TLP:"),
        }
    return None


@dataclass(frozen=True)
class ShareOption:
    agreement: Agreement
    recipient: Organisation
    problem: str | None
    already_shared: bool

    @property
    def allowed(self) -> bool:
        return self.problem is None and not self.already_shared


def share_options(resource: Resource) -> list[ShareOption]:
    """Every (agreement, party) the owner could share with, and why each one cannot."""
    active = Share.objects.filter(resource=resource, status=ShareStatus.ACTIVE)
    return share_options_for(resource, set(active.values_list("recipient_id", flat=True)))


def share_options_for(resource, active_recipient_ids: set) -> list[ShareOption]:
    """share_options for anything shared under these rules, given whom it is shared with."""
    active = active_recipient_ids
    agreements = (
        Agreement.objects.filter(parties__organisation=resource.owner)
        .exclude(status__in=["draft", "superseded"])
        .prefetch_related("parties__organisation")
        .distinct()
        .order_by("reference", "version")
    )
    options = []
    for agreement in agreements:
        for party in agreement.parties.all():
            if party.organisation_id == resource.owner_id:
                continue
            options.append(
                ShareOption(
                    agreement,
                    party.organisation,
                    sharing_problem(resource, agreement, party.organisation),
                    party.organisation_id in active,
                )
            )
    return options


def share_resource(
    *,
    actor,
    resource: Resource,
    agreement: Agreement,
    recipient: Organisation,
    recipient_users: Iterable = (),
    reauthentication: reauth.Reauthentication | None = None,
) -> Share:
    """Share with one recipient under one agreement, when every sharing rule holds.

    recipient_users (people or usernames) are looked at only once the rules allow the share,
    and every name the recipient does not hold gets one answer: sharing reveals nobody.
    """
    access.require(actor, "share", resource)
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        if resource.tlp in REAUTH_TLP:  # decided on the locked row: a raise cannot slip by
            reauth.require_recent(reauthentication)
        problem = sharing_problem(resource, agreement, recipient)
        if problem:
            raise ValidationError(problem)
        if Share.objects.filter(
            resource=resource, recipient=recipient, status=ShareStatus.ACTIVE
        ).exists():
            raise ValidationError(
                gettext("%(resource)s is already shared with %(organisation)s.")
                % {"resource": resource, "organisation": recipient}
            )
        recipient_users = named_recipients(resource, recipient, recipient_users)
        share = Share.objects.create(
            resource=resource, recipient=recipient, agreement=agreement, shared_by=actor
        )
        share.recipient_users.set(recipient_users)
        access.sync_object(resource)
        audit.record(
            actor,
            "resource.shared",
            resource,
            share=share.pk,
            recipient=recipient.slug,
            agreement=agreement.label,
            tlp=resource.tlp,
            named_users=sorted(u.get_username() for u in recipient_users),
        )
        notify(
            _recipients_of(share),
            kind="resource.shared",
            title=gettext("%(organisation)s shared “%(title)s” with you")
            % {"organisation": resource.owner, "title": resource.title},
            body=gettext("%(tlp)s, under %(agreement)s.")
            % {"tlp": TLP(resource.tlp).label, "agreement": agreement.label},
            url=resource.get_absolute_url(),
            actor=actor,
        )
    return share


def revoke_share(*, actor, share: Share, reason: str = "") -> Share:
    """End a share at once: the recipient loses access immediately."""
    access.require(actor, "share", share.resource)
    with transaction.atomic():
        share = (
            Share.objects.select_for_update()
            .select_related("resource", "agreement")
            .get(pk=share.pk)
        )
        if share.status == ShareStatus.REVOKED:
            raise ValidationError(gettext("This share is already revoked."))
        end_share(share, ShareStatus.REVOKED, actor=actor, reason=reason or "Revoked by the owner")
        access.sync_object(share.resource)
        audit.record(
            actor,
            "resource.share_revoked",
            share.resource,
            share=share.pk,
            recipient=share.recipient.slug,
            agreement=share.agreement.label,
            reason=reason,
        )
        notify(
            _recipients_of(share),
            kind="resource.share_revoked",
            title=gettext("%(organisation)s withdrew “%(title)s”")
            % {"organisation": share.resource.owner, "title": share.resource.title},
            body=reason
            or gettext("The owner revoked the share; the resource is no longer available."),
            actor=actor,
        )
    return share


# --- Reading: views and downloads are audited -------------------------------------------------


def record_view(*, actor, resource: Resource, via: str = "web") -> None:
    """Every detail view is an audit event, for the owner's access report."""
    audit.record(actor, "resource.viewed", resource, via=via, **_access_basis(actor, resource))


def open_download(*, actor, resource: Resource, version: ResourceVersion | None = None):
    """The version to stream, after re-checking the live rule; the download is audited."""
    access.require(actor, "download", resource)
    version = version or resource.latest_version
    if version is None or version.resource_id != resource.pk:
        raise ValidationError(gettext("This resource has no such version."))
    audit.record(
        actor,
        "resource.downloaded",
        resource,
        version=version.number,
        sha256=version.sha256,
        **_access_basis(actor, resource),
    )
    return version


# --- Agreement hooks: access never outlives the agreement ---------------------------------------


def end_shares_of(agreement: Agreement) -> None:
    """The agreement ended: its shares end, and with them the recipients' grants."""
    for share in Share.objects.filter(
        agreement=agreement, status=ShareStatus.ACTIVE
    ).select_related("resource"):
        end_share(
            share,
            ShareStatus.REVOKED,
            actor=None,
            reason=f"{agreement.label} {agreement.get_status_display().lower()}",
        )
        access.sync_object(share.resource)
        audit.record(
            None, "resource.share_ended", share.resource, share=share.pk, agreement=agreement.label
        )


def resync_shares_of(agreement: Agreement) -> None:
    """The agreement's last day moved: its shares' grants lapse on the new day."""
    shared = Resource.objects.filter(
        shares__agreement=agreement, shares__status=ShareStatus.ACTIVE
    ).distinct()
    for resource in shared:
        access.sync_object(resource)


def carry_shares_over(old: Agreement, new: Agreement) -> None:
    """An amendment replaced the agreement: shares continue under it where it still allows."""
    for share in Share.objects.filter(agreement=old, status=ShareStatus.ACTIVE).select_related(
        "resource", "recipient"
    ):
        problem = sharing_problem(share.resource, new, share.recipient)
        if problem is None:
            share.agreement = new
            share.save(update_fields=["agreement"])
            audit.record(
                None,
                "resource.share_carried_over",
                share.resource,
                share=share.pk,
                agreement=new.label,
            )
        else:
            end_share(share, ShareStatus.SUSPENDED, actor=None, reason=problem)
            audit.record(
                None,
                "resource.share_suspended",
                share.resource,
                share=share.pk,
                agreement=old.label,
                reason=problem,
            )
            _notify_owner(
                share.resource,
                gettext("A share of “%(resource)s” was suspended") % {"resource": share.resource},
                problem,
            )
        access.sync_object(share.resource)


# --- Helpers --------------------------------------------------------------------------------


def _store_version(resource, actor, upload, checked: files.CheckedFile, note: str):
    number = (
        resource.versions.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    version = ResourceVersion(
        resource=resource,
        number=number,
        sha256=checked.sha256,
        size=checked.size,
        content_type=checked.content_type,
        original_name=checked.original_name,
        note=note,
        uploaded_by=actor,
    )
    version.file.save("upload", upload, save=False)
    try:
        version.save()
    except Exception:
        version.file.delete(save=False)  # nothing is stored for an upload that was refused
        raise
    Resource.objects.filter(pk=resource.pk).update(current_version=version)
    resource.current_version = version
    return version


def _suspend_unfit_shares(resource: Resource, *, actor) -> None:
    for share in Share.objects.filter(resource=resource, status=ShareStatus.ACTIVE).select_related(
        "agreement", "recipient"
    ):
        problem = sharing_problem(resource, share.agreement, share.recipient)
        if problem is None and resource.tlp == TLP.RED and not share.recipient_users.exists():
            problem = gettext("TLP:RED needs named recipients; this share names none.")
        if problem:
            end_share(share, ShareStatus.SUSPENDED, actor=actor, reason=problem)
            audit.record(
                actor,
                "resource.share_suspended",
                resource,
                share=share.pk,
                agreement=share.agreement.label,
                reason=problem,
            )
            _notify_owner(
                resource,
                gettext("A share of “%(resource)s” was suspended") % {"resource": resource},
                problem,
                actor=actor,
            )


def end_share(share: Share, status: str, *, actor, reason: str) -> None:
    share.status = status
    share.ended_by = actor
    share.ended_at = timezone.now()
    share.end_reason = reason[:500]
    share.save(update_fields=["status", "ended_by", "ended_at", "end_reason"])


def named_recipients(resource: Resource, recipient: Organisation, named: Iterable) -> list:
    """The named people (users or usernames) as the recipient's active members; only TLP:RED
    names people. Any other name is refused in the same words whatever it is."""
    names = list(dict.fromkeys(u if isinstance(u, str) else u.get_username() for u in named))
    if resource.tlp != TLP.RED:
        if names:
            raise ValidationError(
                {
                    "recipient_users": gettext(
                        "Only TLP:RED shares name people; this one goes to the whole organisation."
                    )
                }
            )
        return []
    if not names:
        raise ValidationError(
            {
                "recipient_users": gettext(
                    "TLP:RED is shared with named people only: choose at least one."
                )
            }
        )
    people = list(
        User.objects.filter(
            username__in=names, is_active=True, membership__organisation=recipient
        ).order_by("username")
    )
    outsiders = sorted(set(names) - {u.get_username() for u in people})
    if outsiders:
        raise ValidationError(
            {
                "recipient_users": gettext("Not active members of %(organisation)s: %(names)s.")
                % {"organisation": recipient, "names": ", ".join(outsiders)}
            }
        )
    return people


def _access_basis(actor, resource: Resource) -> dict:
    """Which share (and agreement) gave the actor access, for the access report."""
    membership = getattr(actor, "membership", None)
    if membership is None or membership.organisation_id == resource.owner_id:
        return {"basis": "owner" if membership else "none"}
    live = Share.objects.live().filter(resource=resource, recipient_id=membership.organisation_id)
    if resource.tlp == TLP.RED:
        live = live.filter(recipient_users=actor)
    share = live.select_related("agreement").first()
    if share is None:
        return {"basis": "clear" if resource.tlp == TLP.CLEAR else "none"}
    return {"basis": "share", "share": share.pk, "agreement": share.agreement.label}


def _recipients_of(share: Share):
    if share.resource.tlp == TLP.RED:
        return list(share.recipient_users.all())
    return [
        m.user
        for m in Membership.objects.filter(
            organisation=share.recipient, programme_manager=True
        ).select_related("user")
    ]


def _notify_owner(resource: Resource, title: str, body: str, *, actor=None) -> None:
    managers = Membership.objects.filter(
        organisation_id=resource.owner_id, programme_manager=True
    ).select_related("user")
    notify(
        [m.user for m in managers],
        kind="resource.share_suspended",
        title=title,
        body=body,
        url=resource.get_absolute_url(),
        actor=actor,
    )


def _check_metadata(metadata: dict) -> None:
    unknown = set(metadata) - METADATA_FIELDS
    if unknown:
        raise ValidationError(
            gettext("These fields cannot be set here: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )
    tags = metadata.get("tags")
    if tags is not None:
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ValidationError({"tags": gettext("Tags are a list of words.")})
        if len(tags) > 20 or any(len(t) > 40 for t in tags):
            raise ValidationError(
                {"tags": gettext("At most 20 tags of at most 40 characters each.")}
            )


def _programme_manager(actor) -> Membership:
    membership = getattr(actor, "membership", None)
    if not (
        actor.is_authenticated and actor.is_active and membership and membership.programme_manager
    ):
        raise PermissionDenied(gettext("Only programme managers add resources."))
    return membership


def ending_consequences(agreement: Agreement, viewer) -> list[str]:
    """What an agreement's end takes from the resources the viewer's organisation shared
    under it, and from those shared with it."""
    organisation = getattr(getattr(viewer, "membership", None), "organisation", None)
    if organisation is None:
        return []
    live = Share.objects.filter(agreement=agreement, status=ShareStatus.ACTIVE)
    sentences = []
    given = live.filter(resource__owner=organisation).select_related("recipient")
    resources = {share.resource_id for share in given}
    if resources:
        recipients = sorted({str(share.recipient) for share in given})
        sentences.append(
            ngettext(
                "The %(count)d resource your organisation shared under it becomes invisible to "
                "%(recipients)s.",
                "The %(count)d resources your organisation shared under it become invisible "
                "to %(recipients)s.",
                len(resources),
            )
            % {"count": len(resources), "recipients": ", ".join(recipients)}
        )
    received = live.filter(recipient=organisation).values("resource_id").distinct().count()
    if received:
        sentences.append(
            ngettext(
                "The %(count)d resource partners shared with %(organisation)s under it becomes "
                "invisible to %(organisation)s.",
                "The %(count)d resources partners shared with %(organisation)s under it become "
                "invisible to %(organisation)s.",
                received,
            )
            % {"count": received, "organisation": organisation}
        )
    return sentences


agreement_services.ended_hooks.append(end_shares_of)
agreement_services.ending_consequence_hooks.append(ending_consequences)
agreement_services.last_day_moved_hooks.append(resync_shares_of)
agreement_services.superseded_hooks.append(carry_shares_over)

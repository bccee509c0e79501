"""The access report: which users, from which organisation and nation, did what and when.

The rows come from the audit trail. `events()` is the one query behind every output: the
report page, its CSV export and the API's access log all call it with a `Scope` and the
cleaned filters of `ReportFilterForm`, then turn events into `Row`s with `rows()`.

Callers decide who may read it: the views require "view_access_report" on the resource, or on
the agreement (which covers only resources the viewer's organisation owns).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext, gettext_lazy

from portal import access, csv_export
from portal.filters import OrganisationPicker
from portal.models import AuditEvent, Organisation
from resources.models import Resource, Share

RESOURCE_OBJECT_TYPE = Resource._meta.label_lower

#: The events of a resource, in the words people read. Other actions show as recorded.
ACTION_LABELS = {
    "resource.viewed": gettext_lazy("Viewed"),
    "resource.downloaded": gettext_lazy("Downloaded"),
    "resource.created": gettext_lazy("Uploaded"),
    "resource.version_added": gettext_lazy("New version uploaded"),
    "resource.updated": gettext_lazy("Details changed"),
    "resource.shared": gettext_lazy("Shared"),
    "resource.share_revoked": gettext_lazy("Share revoked"),
    "resource.share_ended": gettext_lazy("Share ended with the agreement"),
    "resource.share_suspended": gettext_lazy("Share suspended"),
    "resource.share_carried_over": gettext_lazy("Share carried over to an amendment"),
    "resource.access_report_exported": gettext_lazy("Access report exported"),
}

SORT_CHOICES = [("-time", gettext_lazy("Newest first")), ("time", gettext_lazy("Oldest first"))]
DEFAULT_SORT = "-time"

CSV_HEADER = [
    "time_utc",
    "user",
    "organisation",
    "country",
    "country_name",
    "action",
    "resource_id",
    "resource",
    "version",
    "sha256",
    "agreement",
    "detail",
]


# --- Scope and filters ------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The resources a report covers, and which of their events belong to it."""

    resource_ids: frozenset[int]
    condition: Q = field(default_factory=Q)


def resource_scope(resource: Resource) -> Scope:
    """One resource's history: every event about it but refusals."""
    return Scope(frozenset({resource.pk}))


def agreement_scope(agreement, organisation: Organisation) -> Scope:
    """Resources of organisation ever shared under agreement, and the events that arose under it.

    A share names its agreement; so do the events of sharing, and the views and downloads of
    recipients (the basis of their access). Revocations and suspensions name the share only.
    A share carried over to an amendment moves to the new version, so the events that name
    this version's label find the resources shared under it before the amendment.
    """
    label = agreement.label
    shares = list(
        Share.objects.filter(agreement=agreement, resource__owner=organisation).values_list(
            "pk", "resource_id"
        )
    )
    labelled = {
        int(object_id)
        for object_id in AuditEvent.objects.filter(
            object_type=RESOURCE_OBJECT_TYPE, details__agreement=label
        )
        .values_list("object_id", flat=True)
        .distinct()
        if object_id.isdigit()
    }
    candidates = labelled | {resource_id for _, resource_id in shares}
    owned = Resource.objects.filter(owner=organisation, pk__in=candidates)
    condition = Q(details__agreement=label)
    if shares:
        condition |= Q(details__share__in=[pk for pk, _ in shares])
    return Scope(frozenset(owned.values_list("pk", flat=True)), condition)


class ReportFilterForm(forms.Form):
    """What the report can be narrowed to; the page, the CSV and the API validate with it."""

    #: The fields the filter bar shows; search and sorting have their own controls.
    FILTER_FIELDS = ("action", "organisation", "date_from", "date_to")

    q = forms.CharField(required=False, max_length=200, strip=True)
    action = forms.ChoiceField(
        required=False, choices=[("", gettext_lazy("Any action")), *ACTION_LABELS.items()]
    )
    organisation = forms.ModelChoiceField(
        required=False,
        queryset=Organisation.objects.none(),  # what the reader's directory shows: __init__
        to_field_name="slug",
        widget=OrganisationPicker(attrs={"placeholder": gettext_lazy("Short name")}),
        error_messages={
            "invalid_choice": gettext_lazy("No organisation has the short name “%(value)s”.")
        },
        help_text=gettext_lazy("The short name of the organisation of the people who acted."),
    )
    date_from = forms.DateField(
        required=False,
        label=gettext_lazy("From (UTC)"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        required=False,
        label=gettext_lazy("To (UTC)"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    sort = forms.CharField(required=False)

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        # Only what the directory shows the reader: listing every organisation would name
        # inactive ones, and accepting them would confirm their short names.
        self.fields["organisation"].queryset = access.visible_to(user, Organisation.objects.all())

    def clean_sort(self) -> str:
        # An unknown sort key is not worth an error: the report falls back to newest first.
        sort = self.cleaned_data.get("sort")
        return sort if sort in dict(SORT_CHOICES) else DEFAULT_SORT

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", gettext("The end date is before the start date."))
        return cleaned

    def filter_fields(self) -> list:
        return [self[name] for name in self.FILTER_FIELDS]

    def is_filtered(self) -> bool:
        return self.is_valid() and any(
            self.cleaned_data.get(name) for name in ("q", *self.FILTER_FIELDS)
        )


# --- The report -------------------------------------------------------------------------------


def events(scope: Scope, filters: Mapping | None = None) -> QuerySet[AuditEvent]:
    """The scope's events matching the cleaned filters, newest first unless asked otherwise."""
    filters = filters or {}
    # The resources' histories: refusals are never in them, so the report never names who
    # outside a resource's audience tried to open it (portal.audit.history_of).
    queryset = AuditEvent.objects.filter(
        scope.condition,
        history__in=[f"{RESOURCE_OBJECT_TYPE}:{pk}" for pk in sorted(scope.resource_ids)],
    )
    if filters.get("action"):
        queryset = queryset.filter(action=filters["action"])
    if filters.get("organisation"):
        queryset = queryset.filter(actor_organisation=filters["organisation"])
    if filters.get("date_from"):
        queryset = queryset.filter(created_at__gte=_start_of(filters["date_from"]))
    if filters.get("date_to") and filters["date_to"] < datetime.date.max:  # no day after it
        end = filters["date_to"] + datetime.timedelta(days=1)
        queryset = queryset.filter(created_at__lt=_start_of(end))
    if filters.get("q"):
        queryset = queryset.filter(
            Q(actor_label__icontains=filters["q"]) | Q(object_repr__icontains=filters["q"])
        )
    # The chain is appended under a lock, so ids follow time; (history, id) is indexed.
    order = "id" if filters.get("sort") == "time" else "-id"
    return queryset.select_related("actor_organisation").order_by(order)


@dataclass(frozen=True)
class Row:
    """One line of the report."""

    time: datetime.datetime
    user: str
    organisation: str
    organisation_slug: str
    country: str
    country_name: str
    action: str
    action_label: str
    resource_id: int | None
    resource: str
    version: int | None
    sha256: str
    agreement: str
    detail: str


def rows(events: Iterable[AuditEvent]) -> list[Row]:
    """The report's rows for these events; the resources' titles come in one query."""
    events = list(events)
    ids = {int(e.object_id) for e in events if e.object_id.isdigit()}
    titles = dict(Resource.objects.filter(pk__in=ids).values_list("pk", "title")) if ids else {}
    return [_row(event, titles) for event in events]


def csv_lines(events: QuerySet[AuditEvent], *, batch: int = 2000) -> Iterator[str]:
    """The report as CSV text, a header then one line per event, safe to open in a
    spreadsheet; streamed in batches so a long report never sits in memory."""
    return csv_export.stream(
        CSV_HEADER, events, lambda chunk: [_csv_values(row) for row in rows(chunk)], batch=batch
    )


# --- Helpers ----------------------------------------------------------------------------------


def _start_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


def _row(event: AuditEvent, titles: dict[int, str]) -> Row:
    details = event.details if isinstance(event.details, dict) else {}
    organisation = event.actor_organisation
    resource_id = int(event.object_id) if event.object_id.isdigit() else None
    version = details.get("version")
    return Row(
        time=event.created_at.astimezone(datetime.UTC),
        user=event.actor_label or gettext("the portal"),
        organisation=organisation.name if organisation else "",
        organisation_slug=organisation.slug if organisation else "",
        country=organisation.country.code if organisation else "",
        country_name=str(organisation.country.name) if organisation else "",
        action=event.action,
        action_label=str(ACTION_LABELS.get(event.action, event.action)),
        resource_id=resource_id,
        resource=titles.get(resource_id, event.object_repr),
        version=version if isinstance(version, int) else None,
        sha256=str(details.get("sha256", "")),
        agreement=str(details.get("agreement", "")),
        detail=_detail(event.action, details),
    )


def _detail(action: str, details: dict) -> str:
    """What else the event says that a reader of the report needs, in a few words."""
    if action == "resource.shared":
        named = details.get("named_users") or []
        people = f" ({', '.join(named)})" if named else ""
        return f"with {details.get('recipient', '')}{people}"
    if action in ("resource.share_revoked", "resource.share_suspended"):
        parts = [details.get("recipient", ""), details.get("reason", "")]
        return ": ".join(p for p in parts if p)
    if action == "resource.updated":
        return ", ".join(sorted(details.get("changes") or {}))
    if action == "access.refused":
        outcome = "hidden" if details.get("outcome") == "not_found" else "not allowed"
        return f"{details.get('requested_action', '')} ({outcome})"
    if action in ("resource.viewed", "resource.downloaded") and details.get("via"):
        return f"via {details['via']}"
    return ""


def _csv_values(row: Row) -> list:
    return [
        row.time.isoformat(timespec="seconds"),
        row.user,
        row.organisation,
        row.country,
        row.country_name,
        row.action,
        row.resource_id,
        row.resource,
        row.version,
        row.sha256,
        row.agreement,
        row.detail,
    ]

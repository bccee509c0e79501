"""Filter bars for the core's lists."""

import datetime

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, Value
from django.db.models.functions import Concat
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from portal import access, audit_log
from portal.invitations import pending_memberships
from portal.models import Organisation, OrganisationKind


class OrganisationPicker(forms.TextInput):
    """An organisation chosen by short name, with the directory's matches suggested as the
    person types (a native datalist, filled by htmx from `organisation-suggest`).

    A select of every organisation grows with the directory: at national scale (2,000) it
    was about 120 KB of options on every list page and most of the page's time.
    """

    template_name = "components/organisation_picker.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["suggest_url"] = reverse("portal:organisation-suggest")
        return context


def _organisations_visible_to_requester(request):
    # Only what the directory shows the person: a hidden organisation's short name must get
    # the same answer as one that does not exist, or the filter would confirm it.
    user = getattr(request, "user", None)
    return access.visible_to(user, Organisation.objects.all())


def organisation_filter(label: str, **kwargs) -> django_filters.ModelChoiceFilter:
    """A filter on one organisation, named by its short name (slug) in the URL."""
    return django_filters.ModelChoiceFilter(
        label=label,
        queryset=_organisations_visible_to_requester,
        to_field_name="slug",
        widget=OrganisationPicker(attrs={"placeholder": _("Short name")}),
        error_messages={"invalid_choice": _("No organisation has the short name “%(value)s”.")},
        **kwargs,
    )


class OrganisationFilter(django_filters.FilterSet):
    # A callable: a form deep-copies a list of choices, 250 countries, on every request.
    country = django_filters.ChoiceFilter(
        label=_("Country"), choices=lambda: list(countries), empty_label=_("Any country")
    )
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=OrganisationKind.choices, empty_label=_("Any kind")
    )

    class Meta:
        model = Organisation
        fields = ["country", "kind"]

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        # The select offers the countries the person's directory holds; any country code
        # stays a valid filter (an API client's ?country=SE finds none rather than a 400).
        # Asked only when the select is drawn: the API, which filters a page's parts with
        # this set several times, never draws it.
        field = self.filters["country"].field
        offered = field.choices

        def present_countries():
            present = set(
                _organisations_visible_to_requester(request)
                .order_by()
                .values_list("country", flat=True)
                .distinct()
            )
            return [choice for choice in offered if choice[0] == "" or choice[0] in present]

        field.widget.choices = present_countries


#: The member list's status of an invitation not accepted yet.
PENDING = "pending"


class MemberFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(
        label=_("Role"),
        empty_label=_("Any role"),
        method="filter_role",
        choices=[
            ("org_admin", _("Organisation admin")),
            ("programme_manager", _("Programme manager")),
            ("signatory", _("Signatory")),
            ("reviewer", _("Reviewer")),
        ],
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        empty_label=_("Any status"),
        method="filter_status",
        choices=[
            ("active", _("Active")),
            (PENDING, _("Invited, not signed in yet")),
            ("deactivated", _("Deactivated")),
        ],
    )

    def filter_role(self, queryset, name, value):
        return queryset.filter(**{value: True})

    def filter_status(self, queryset, name, value):
        if value == PENDING:
            return pending_memberships(queryset)
        return queryset.filter(user__is_active=value == "active")


#: The notification list's topics: the kinds of notice (their prefixes) each one holds.
NOTIFICATION_TOPICS = {
    "agreements": (_("Agreements"), ("agreement.",)),
    "reviews": (_("Reviews"), ("project.item_", "project.reviewer_")),
    "shares": (_("Shares"), ("resource.", "intel.")),
}


class NotificationFilter(django_filters.FilterSet):
    """A person's own notices: unread ones only, and by topic."""

    state = django_filters.ChoiceFilter(
        label=_("Show"),
        choices=[("unread", _("Unread only"))],
        method="filter_state",
        empty_label=_("Read and unread"),
    )
    topic = django_filters.ChoiceFilter(
        label=_("Topic"),
        choices=[(key, label) for key, (label, _prefixes) in NOTIFICATION_TOPICS.items()],
        method="filter_topic",
        empty_label=_("Every topic"),
    )

    def filter_state(self, queryset, name, value):
        return queryset.filter(read_at__isnull=True) if value == "unread" else queryset

    def filter_topic(self, queryset, name, value):
        condition = Q()
        for prefix in NOTIFICATION_TOPICS[value][1]:
            condition |= Q(kind__startswith=prefix)
        return queryset.filter(condition)


class AuditEventFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned


def _date_filter(label: str, method: str) -> django_filters.DateFilter:
    return django_filters.DateFilter(
        label=label,
        method=method,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD, for example 2026-03-31.")},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class AuditEventFilter(django_filters.FilterSet):
    """An organisation's audit log: by actor, action, object and period (UTC days, both ends
    included). The action and object type lists hold only what the log contains."""

    actor = django_filters.CharFilter(
        label=_("Actor"),
        method="filter_actor",
        max_length=150,
        widget=forms.TextInput(attrs={"placeholder": _("Name or username")}),
    )
    action = django_filters.ChoiceFilter(label=_("Action"), empty_label=_("Any action"), choices=[])
    object_type = django_filters.ChoiceFilter(
        label=_("Object type"), empty_label=_("Any type"), choices=[]
    )
    object_id = django_filters.CharFilter(
        label=_("Object id"), method="filter_object_id", max_length=64
    )
    date_from = _date_filter(_("From (UTC)"), "filter_date_from")
    date_to = _date_filter(_("To (UTC)"), "filter_date_to")

    class Meta:
        form = AuditEventFilterForm

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        present = self.queryset.order_by()
        actions = present.values_list("action", flat=True).distinct()
        types = present.exclude(object_type="").values_list("object_type", flat=True).distinct()
        self.filters["action"].extra["choices"] = [(a, a) for a in sorted(actions)]
        self.filters["object_type"].extra["choices"] = sorted(
            ((t, audit_log.object_type_label(t)) for t in types), key=lambda choice: choice[1]
        )

    def filter_actor(self, queryset, name, value):
        """By username as recorded, or by first, last or full name among the people whose
        member list the reader may see: a name must not find (and so confirm) anyone else."""
        value = value.strip()
        if not value:
            return queryset
        visible = access.visible_to(self.request.user, Organisation.objects.all(), "view_members")
        people = (
            get_user_model()
            .objects.filter(membership__organisation__in=visible.values("pk"))
            .annotate(full_name=Concat("first_name", Value(" "), "last_name"))
            .filter(
                Q(username__icontains=value)
                | Q(first_name__icontains=value)
                | Q(last_name__icontains=value)
                | Q(full_name__icontains=value)
            )
        )
        return queryset.filter(Q(actor_label__icontains=value) | Q(actor__in=people.values("pk")))

    def filter_object_id(self, queryset, name, value):
        # Only events whose object the reader may see match an id: otherwise the match alone
        # would confirm the id of an object the log withholds.
        types = (
            queryset.filter(object_id=value)
            .order_by()
            .values_list("object_type", flat=True)
            .distinct()
        )
        visible = audit_log.visible_objects(self.request.user, {(t, value) for t in types})
        return queryset.filter(object_id=value, object_type__in=sorted(t for t, _ in visible))

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=_start_of(value))

    def filter_date_to(self, queryset, name, value):
        if value == datetime.date.max:
            return queryset  # the last day there is: nothing comes after it
        return queryset.filter(created_at__lt=_start_of(value + datetime.timedelta(days=1)))


def _start_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)

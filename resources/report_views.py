"""Access report pages: who used a resource, or what the organisation shared under an
agreement, with filters, pagination and a CSV export of the same rows."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.generic import ListView

from agreements.models import Agreement
from portal import audit
from portal.base_views import CursorPaginationMixin, ObjectAccessMixin
from portal.models import AuditEvent
from portal.pagination import PAGE_PARAMS, KeysetPaginator
from resources import reports
from resources.models import Resource


class AccessReportMixin(ObjectAccessMixin, CursorPaginationMixin, ListView):
    """A report page: the object comes through the access layer ("view_access_report"),
    the rows through `reports.events`, for the page and its CSV export alike."""

    access_action = "view_access_report"
    paginate_by = 50
    paginator_class = KeysetPaginator
    template_name = "resources/access_report.html"
    results_partial = "resources/access_report_results.html"

    def get_scope(self) -> reports.Scope:
        raise NotImplementedError

    def csv_filename(self) -> str:
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        self.form = reports.ReportFilterForm(request.GET, user=request.user)
        if request.GET.get("format") == "csv" and self.form.is_valid():
            return self.csv_response()
        # Invalid filters (also for a CSV export) show the page with the form's errors.
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if not self.form.is_valid():
            return AuditEvent.objects.none()
        return reports.events(self.get_scope(), self.form.cleaned_data)

    def get_template_names(self):
        if getattr(self.request, "htmx", False) and not self.request.htmx.boosted:
            return [self.results_partial]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        for name in (*PAGE_PARAMS, "format"):
            query.pop(name, None)
        context.update(
            # What components/filter_bar.html reads.
            report_form=self.form,
            filterset=_FilterBar(self.form),
            search=self.request.GET.get("q", "")[:200],
            sort=self.form.cleaned_data.get("sort") if self.form.is_valid() else "",
            sort_choices=reports.SORT_CHOICES,
            is_filtered=self.form.is_filtered(),
            filters_invalid=not self.form.is_valid(),
            query_without_page=query.urlencode(),
            rows=reports.rows(context["object_list"]),
        )
        return context

    def csv_response(self) -> StreamingHttpResponse:
        filters = self.form.cleaned_data
        # An export carries other nations' names out of the portal: it is recorded.
        exported = audit.record(
            self.request.user,
            "resource.access_report_exported",
            self.object,
            filters={
                key: getattr(value, "slug", value)
                for key, value in filters.items()
                if value and key != "sort"
            },
        )
        # The file is the report as it stood when asked for, without the export itself.
        events = reports.events(self.get_scope(), filters).filter(pk__lt=exported.pk)
        response = StreamingHttpResponse(
            reports.csv_lines(events),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{self.csv_filename()}"'
        response["X-Content-Type-Options"] = "nosniff"
        return response


class ResourceAccessReportView(AccessReportMixin):
    """Who, from which organisation and nation, viewed, downloaded or shared one resource."""

    model = Resource

    def get_access_queryset(self):
        return Resource.objects.select_related("owner")

    def get_scope(self) -> reports.Scope:
        return reports.resource_scope(self.object)

    def csv_filename(self) -> str:
        return f"access-report-resource-{self.object.pk}-{timezone.now():%Y%m%d}.csv"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            resource=self.object,
            title=gettext("Access report: %(title)s") % {"title": self.object.title},
            intro=gettext(
                "Who, from which organisation and nation, did what with this resource, "
                "and when. Times are UTC."
            ),
        )
        return context


class AgreementAccessReportView(AccessReportMixin):
    """What your organisation shared under one agreement, and who used it."""

    model = Agreement

    def get_scope(self) -> reports.Scope:
        return reports.agreement_scope(self.object, self.request.user.membership.organisation)

    def csv_filename(self) -> str:
        reference = self.object.label.replace(" ", "-")
        return f"access-report-{reference}-{timezone.now():%Y%m%d}.csv"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            agreement=self.object,
            title=gettext("Access report: %(title)s") % {"title": self.object.label},
            intro=gettext(
                "What %(organisation)s shared under this "
                "agreement, and who viewed or downloaded it. Only your organisation's resources "
                "are listed. Times are UTC."
            )
            % {"organisation": self.request.user.membership.organisation},
        )
        return context


class _FilterBar:
    """The report's form, as components/filter_bar.html expects a filterset."""

    def __init__(self, form: reports.ReportFilterForm):
        self.form = form.filter_fields()

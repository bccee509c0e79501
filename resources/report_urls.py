"""Access report pages, included at /resources/ beside the resource pages (namespace
"resource-reports")."""

from django.urls import path

from resources import report_views

urlpatterns = [
    path(
        "<int:pk>/access-report/",
        report_views.ResourceAccessReportView.as_view(),
        name="resource",
    ),
    path(
        "by-agreement/<int:pk>/access-report/",
        report_views.AgreementAccessReportView.as_view(),
        name="agreement",
    ),
]

"""HTML views of intelligence: the list, an object's page, the indicator form, imports,
shares, sightings and the "Connect your tools" page. They translate HTTP into service calls;
access comes from the base classes and the policy in intel/policies.py."""

from django.views.generic import DetailView

from intel.models import StixObject
from portal.base_views import AccessListView, ObjectAccessMixin


class StixObjectListView(AccessListView):
    model = StixObject
    search_fields = ("name", "pattern", "description", "observable_values")
    sort_options = {"newest": "-added_at"}
    default_sort = "newest"
    results_template = "intel/object_rows.html"
    template_name = "intel/object_list.html"

    def get_base_queryset(self):
        return StixObject.objects.select_related("owner")


class StixObjectDetailView(ObjectAccessMixin, DetailView):
    model = StixObject
    template_name = "intel/object_detail.html"

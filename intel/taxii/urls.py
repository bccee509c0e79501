"""TAXII 2.1 routes, under /taxii2/ (portal/urls.py). Ids are plain strings: the views answer
a malformed one with the same TAXII 404 as any other unknown id."""

from django.urls import path

from intel.taxii import views

app_name = "taxii"

urlpatterns = [
    path("", views.DiscoveryView.as_view(), name="discovery"),
    path("api/", views.ApiRootView.as_view(), name="api-root"),
    path("api/collections/", views.CollectionListView.as_view(), name="collections"),
    path(
        "api/collections/<str:collection_id>/",
        views.CollectionView.as_view(),
        name="collection",
    ),
    path(
        "api/collections/<str:collection_id>/manifest/",
        views.ManifestView.as_view(),
        name="manifest",
    ),
    path(
        "api/collections/<str:collection_id>/objects/",
        views.ObjectListView.as_view(),
        name="objects",
    ),
    path(
        "api/collections/<str:collection_id>/objects/<str:object_id>/",
        views.ObjectView.as_view(),
        name="object",
    ),
    path(
        "api/collections/<str:collection_id>/objects/<str:object_id>/versions/",
        views.ObjectVersionsView.as_view(),
        name="versions",
    ),
    path("api/status/<str:status_id>/", views.StatusView.as_view(), name="status"),
]

from django.urls import path

from resources import views

app_name = "resources"

urlpatterns = [
    path("", views.ResourceListView.as_view(), name="list"),
    path("new/", views.ResourceCreateView.as_view(), name="create"),
    path("<int:pk>/", views.ResourceDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.ResourceEditView.as_view(), name="edit"),
    path("<int:pk>/versions/new/", views.VersionUploadView.as_view(), name="version-upload"),
    path("<int:pk>/download/", views.DownloadView.as_view(), name="download"),
    path(
        "<int:pk>/versions/<int:number>/download/",
        views.DownloadView.as_view(),
        name="version-download",
    ),
    path("<int:pk>/share/", views.ShareView.as_view(), name="share"),
    path("<int:pk>/shares/<int:share_pk>/revoke/", views.RevokeShareView.as_view(), name="revoke"),
]

from django.urls import path

from intel import views

app_name = "intel"

urlpatterns = [
    path("", views.StixObjectListView.as_view(), name="list"),
    path("new/indicator/", views.IndicatorCreateView.as_view(), name="create-indicator"),
    path("pattern-check/", views.PatternCheckView.as_view(), name="pattern-check"),
    path("import/", views.ImportView.as_view(), name="import"),
    path("connect/", views.ConnectView.as_view(), name="connect"),
    path("export/", views.ExportView.as_view(), name="export"),
    path("<int:pk>/", views.StixObjectDetailView.as_view(), name="detail"),
    path("<int:pk>/share/", views.ShareView.as_view(), name="share"),
    path("<int:pk>/shares/<int:share_pk>/revoke/", views.RevokeShareView.as_view(), name="revoke"),
    path("<int:pk>/sighting/", views.SightingView.as_view(), name="sighting"),
]

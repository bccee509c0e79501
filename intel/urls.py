from django.urls import path

from intel import views

app_name = "intel"

urlpatterns = [
    path("", views.StixObjectListView.as_view(), name="list"),
    path("<int:pk>/", views.StixObjectDetailView.as_view(), name="detail"),
]

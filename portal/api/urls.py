from django.urls import include, path

from portal.api import views
from portal.api.base import router

router.register("organisations", views.OrganisationViewSet, basename="organisation")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api-me"),
    path("", include(router.urls)),
]

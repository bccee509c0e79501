from django.urls import include, path

import agreements.api.urls  # noqa: F401  (each app registers its viewsets on the router)
import intel.api.urls  # noqa: F401
import projects.api.urls  # noqa: F401
import resources.api.urls  # noqa: F401
from portal.api import views
from portal.api.base import router

router.register("organisations", views.OrganisationViewSet, basename="organisation")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api-me"),
    path("audit/head/", views.AuditHeadView.as_view(), name="api-audit-head"),
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("", include(router.urls)),
]

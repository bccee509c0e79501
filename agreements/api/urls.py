from agreements.api.views import AgreementViewSet
from portal.api.base import router

router.register("agreements", AgreementViewSet, basename="agreement")

urlpatterns: list = []

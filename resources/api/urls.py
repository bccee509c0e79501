from portal.api.base import router
from resources.api.views import ResourceViewSet

router.register("resources", ResourceViewSet, basename="resource")

urlpatterns: list = []

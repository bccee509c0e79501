from portal.api.base import router
from projects.api.views import ProjectViewSet

router.register("projects", ProjectViewSet, basename="project")

urlpatterns: list = []

from intel.api.views import ExportViewSet, ImportViewSet, StixObjectViewSet
from portal.api.base import router

router.register("intel/objects", StixObjectViewSet, basename="intel-object")
router.register("intel/import", ImportViewSet, basename="intel-import")
router.register("intel/export", ExportViewSet, basename="intel-export")

urlpatterns: list = []

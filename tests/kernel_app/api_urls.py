from rest_framework.routers import SimpleRouter

from tests.kernel_app.api import SpecimenViewSet

router = SimpleRouter()
router.register("specimens", SpecimenViewSet, basename="specimen")
urlpatterns = router.urls

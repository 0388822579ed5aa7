from rest_framework.routers import SimpleRouter

from training.api import views

router = SimpleRouter()
router.register("training/requirements", views.RequirementViewSet, basename="training-requirement")
router.register("training/assignments", views.AssignmentViewSet, basename="training-assignment")

urlpatterns = router.urls


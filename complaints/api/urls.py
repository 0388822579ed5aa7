from rest_framework.routers import SimpleRouter

from complaints.api import views

router = SimpleRouter()
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("products", views.ProductViewSet, basename="product")
router.register("complaint-categories", views.CategoryViewSet, basename="complaint-category")
router.register("failure-modes", views.FailureModeViewSet, basename="failure-mode")
router.register("complaints", views.ComplaintViewSet, basename="complaint")
router.register("sla-policies", views.SlaPolicyViewSet, basename="sla-policy")
router.register("surveys", views.SurveyViewSet, basename="survey")

urlpatterns = router.urls

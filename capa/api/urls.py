from rest_framework.routers import SimpleRouter

from capa.api import views

router = SimpleRouter()
router.register("capas", views.CapaViewSet, basename="capa")
router.register(r"capas/(?P<capa_pk>\d+)/actions", views.ActionViewSet, basename="capa-action")
router.register(r"capas/(?P<capa_pk>\d+)/effectiveness-checks", views.CheckViewSet, basename="capa-check")

urlpatterns = router.urls

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from api.exceptions import not_found
from apicall.api import ApiCallViewSet
from connections.api import ConnectionViewSet
from forwarding.api import DeliveryViewSet, DestinationViewSet
from webhooks.api import EventViewSet, WebhookViewSet

router = DefaultRouter()
router.register("events", EventViewSet, basename="event")
router.register("webhooks", WebhookViewSet, basename="webhook")
router.register("connections", ConnectionViewSet, basename="connection")
router.register("calls", ApiCallViewSet, basename="call")
router.register("destinations", DestinationViewSet, basename="destination")
router.register("deliveries", DeliveryViewSet, basename="delivery")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", http_method_names=["get", "head"]
        ),
        name="docs",
    ),
    re_path(r"^", not_found),
]

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView


class FaviconView(RedirectView):
    """Browsers and tools ask /favicon.ico of pages that name no icon (the API's JSON, say);
    the icon is the static SVG, under its versioned name, looked up per request."""

    def get_redirect_url(self, *args, **kwargs):
        return static("ds24site/favicon.svg")


# Database trouble is a 503, not a 500 (ds24site/errors.py).
handler500 = "ds24site.errors.server_error"

urlpatterns = [
    path("favicon.ico", FaviconView.as_view(permanent=False)),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/", include(("api.urls", "api"))),
    path("", include("webhooks.urls")),
]

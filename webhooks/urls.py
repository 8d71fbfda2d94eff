from django.urls import re_path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    # With or without a trailing slash: a redirect would fail Digistore24's URL validation.
    re_path(r"^ipn/(?P<token>[A-Za-z0-9_-]{1,64})/?$", views.receive, name="receive"),
]

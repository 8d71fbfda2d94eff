from django.urls import re_path

from webhooks import views

app_name = "webhooks"

# A receive URL, with or without a trailing slash: a redirect would fail Digistore24's URL
# validation. Also matched by webhooks/wsgi.py, ahead of Django's request handling.
RECEIVE_PATH = r"ipn/(?P<token>[A-Za-z0-9_-]{1,64})/?"

urlpatterns = [
    re_path(rf"^{RECEIVE_PATH}$", views.receive, name="receive"),
]

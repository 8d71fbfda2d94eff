"""Login throttling with django-axes, so that guessing passwords gets nowhere and a flood of
logins cannot take the workers from the IPN receiver (PBKDF2 costs a worker most of a second
per attempt).

Two limits, over the last LOGIN_LOCKOUT_MINUTES:
- LOGIN_FAILURE_LIMIT failures of one username from one address lock that pair: someone
  guessing one account. The same user elsewhere, and other users here, can still log in, so
  nobody can lock the admin out from afar.
- LOGIN_IP_FAILURE_LIMIT failures from one address, whatever the usernames, lock the address:
  someone trying many accounts, or flooding.

`axes.backends.AxesStandaloneBackend`, first in AUTHENTICATION_BACKENDS, refuses a locked
attempt before any backend hashes the password; the attempt is not recorded either
(AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT), so each costs a few indexed reads. The address
is REMOTE_ADDR as TrustedProxyMiddleware leaves it: X-Forwarded-For counts only when a trusted
proxy wrote it. `manage.py axes_reset` (or deleting the attempt in the admin under Axes >
Access attempts) lifts a lockout.
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.db.models import Sum
from django.shortcuts import render


def client_ip(request) -> str | None:
    """The client's address for counting failures (AXES_CLIENT_IP_CALLABLE)."""
    return request.META.get("REMOTE_ADDR")


class LoginThrottleHandler(AxesDatabaseHandler):
    """axes' database handler (which applies LOGIN_FAILURE_LIMIT to username and address
    together), plus LOGIN_IP_FAILURE_LIMIT for the address alone."""

    def is_locked(self, request, credentials=None) -> bool:
        return super().is_locked(request, credentials) or self.address_locked(request)

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        # The failure that reaches the address limit is answered with the lockout page, as
        # axes does for its own limit.
        if request is not None and not request.axes_locked_out and self.address_locked(request):
            request.axes_locked_out = True
            request.axes_credentials = credentials

    def address_locked(self, request) -> bool:
        failures = AccessAttempt.objects.filter(
            ip_address=request.axes_ip_address,
            attempt_time__gte=get_cool_off_threshold(request),
        ).aggregate(n=Sum("failures_since_start"))["n"]
        return (failures or 0) >= settings.LOGIN_IP_FAILURE_LIMIT


def lockout_response(request, original_response=None, credentials=None):
    """The admin-styled 429 page for a locked-out login (AXES_LOCKOUT_CALLABLE)."""
    minutes = settings.LOGIN_LOCKOUT_MINUTES
    context = {
        **admin.site.each_context(request),
        "title": "Too many failed logins",
        "minutes": minutes,
    }
    # Rendered here: axes returns this from its middleware, after TemplateResponses are rendered.
    response = render(request, "admin/login_locked.html", context, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response

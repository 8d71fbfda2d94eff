import logging
import time
from datetime import timedelta

from django.db import DatabaseError
from django.utils import timezone
from rest_framework import authentication, exceptions

from api.models import ApiToken

logger = logging.getLogger(__name__)

# last_used is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


# time.monotonic() until which this process leaves last_used alone (record_use).
_paused_until = 0.0


def record_use(token: ApiToken, now) -> None:
    """Write the token's last_used: bookkeeping, not access control, so the request is
    answered whether or not it could be written. A read needs no write of its own and must not
    fail for this one while the database is locked; a write finds out on its own (503). After
    a failure this process leaves last_used alone for LAST_USED_RESOLUTION (its precision
    anyway), so that a long lock costs one busy timeout a minute, not one per request."""
    global _paused_until
    if time.monotonic() < _paused_until:
        return
    try:
        # In autocommit (API requests run outside a transaction): a failure leaves nothing.
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
    except DatabaseError:
        logger.warning("API token %s: last_used not written", token.prefix, exc_info=True)
        _paused_until = time.monotonic() + LAST_USED_RESOLUTION.total_seconds()
        return
    token.last_used = now


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>` (or DRF's `Token <token>`)."""

    keywords = ("bearer", "token")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <token>'.")
        try:
            presented = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        token = ApiToken.objects.for_token(presented)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not token.active:
            raise exceptions.AuthenticationFailed("Token revoked or its user inactive.")
        now = timezone.now()
        if token.last_used is None or now - token.last_used > LAST_USED_RESOLUTION:
            record_use(token, now)
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'  # makes unauthenticated requests 401, not 403

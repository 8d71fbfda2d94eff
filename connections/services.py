"""Workflows around connections: verifying a key against Digistore24."""

import logging
from dataclasses import dataclass

from django.utils import timezone

from connections import catalogue
from connections import client as ds24
from connections.models import Connection

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verification:
    ok: bool
    message: str
    key_rejected: bool = False  # Digistore24 does not know the key at all


# What a verification writes; saving only these keeps a concurrent edit (a rename in another
# tab) from being overwritten with the values this request loaded.
VERIFICATION_FIELDS = ["status", "last_verified", "last_error", "updated"]
ACCOUNT_FIELDS = ["ds24_user_id", "ds24_user_name", "granted_roles"]


def connection_client(*, connection: Connection, interactive: bool) -> ds24.Ds24Client:
    """A client for the connection's key. `interactive`: a person is waiting for the answer
    (a page, the console), so no retries and one short budget for all calls."""
    return ds24.Ds24Client(
        connection.api_key, language=connection.language, interactive=interactive
    )


def connection_verify(*, connection: Connection) -> Verification:
    """`ping` (is Digistore24 there?) then `getUserInfo` (does the key work, and whose is it?);
    stores the outcome on the connection and says it in a sentence. Someone is always waiting
    for it (saving a connection, the Verify button), so it is an interactive call."""
    outcome = connection_check(connection=connection)
    connection.save(update_fields=VERIFICATION_FIELDS + (ACCOUNT_FIELDS if outcome.ok else []))
    log = logger.info if outcome.ok else logger.warning
    log("connection %s (%s) verified: %s", connection.pk, connection.key_hint, outcome.message)
    return outcome


def connection_check(*, connection: Connection) -> Verification:
    """connection_verify without saving: sets the outcome on the (possibly unsaved)
    connection, so a new key can be tried before anything is stored."""
    try:
        with connection_client(connection=connection, interactive=True) as api:
            api.ping()
            user = api.get_user_info()
    except ds24.InvalidKey as exc:
        outcome = Verification(False, f"Key rejected: {exc}", key_rejected=True)
    except ds24.PermissionDenied as exc:
        outcome = Verification(False, f"No permission: {exc}")
    except ds24.Unreachable as exc:
        outcome = Verification(False, f"Digistore24 unreachable: {exc}")
    except ds24.Ds24Error as exc:
        outcome = Verification(False, str(exc))
    else:
        connection.ds24_user_id = str(user.get("user_id", ""))[:32]
        connection.ds24_user_name = str(user.get("user_name", ""))[:100]
        connection.granted_roles = str(user.get("granted_roles", ""))[:255]
        outcome = Verification(True, f"OK as {connection.ds24_user_name or 'unknown user'}")

    connection.status = Connection.Status.VERIFIED if outcome.ok else Connection.Status.FAILED
    connection.last_verified = timezone.now()
    connection.last_error = "" if outcome.ok else outcome.message
    return outcome


def connection_call(
    *, connection: Connection, function: str, params=None, interactive: bool
) -> dict:
    """Call a Digistore24 function with the connection's key: the way app code (and the API
    console) talks to Digistore24 on a connection's behalf. `interactive`: a person waits for
    the answer (see connection_client). Learns the key's access level on the way, since
    Digistore24 tells it only by accepting or refusing a write."""
    with connection_client(connection=connection, interactive=interactive) as api:
        try:
            data = api.call(function, params)
        except ds24.PermissionDenied:
            connection_learn_access(connection=connection, function=function, allowed=False)
            raise
    connection_learn_access(connection=connection, function=function, allowed=True)
    return data


def connection_learn_access(*, connection: Connection, function: str, allowed: bool) -> None:
    """Record what a write's outcome says about the key: refused for lack of permission means
    read-only, done means full access. Reads say nothing (every key may read)."""
    access = Connection.Access.FULL if allowed else Connection.Access.READ_ONLY
    if catalogue.is_read(function) or connection.access == access:
        return
    Connection.objects.filter(pk=connection.pk).update(access=access)
    connection.access = access

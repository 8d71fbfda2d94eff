"""The receiver's memory of webhooks, per process (webhooks.views.receive).

Looking the webhook up by its token was one of the receiver's two statements per IPN: on
PostgreSQL a round trip that a thread waited on for three quarters as long as for the INSERT
and its commit (py-spy under `make bench`'s load). So a process remembers each active webhook
it loaded, and the next delivery to it is verified with the remembered row and kept by one
statement that also checks it: INSERT … SELECT … FROM the webhook's row WHERE its token,
passphrase (as stored: re-encrypted whenever it is set), `active` and `accept_unsigned` are
still the ones the delivery was judged with. An IPN is therefore never kept on the strength of
a webhook that changed since, in any process; when it did (or was deleted), nothing is written,
the memory forgets it, and the delivery is judged afresh, exactly as if it had never been
remembered. Only an `OK` is ever given from memory, or a 503 when the database fails to keep
the IPN (Digistore24 retries it): any other answer (404, 403, PAUSED …) comes from a fresh
load.
"""

from dataclasses import dataclass

from django.core.signals import setting_changed
from django.dispatch import receiver

from ds24site import prepared
from ds24site.crypto import reveal, stored_text
from webhooks.models import InboundIPN, Webhook

# Webhooks remembered at most; past that the memory starts again. Only tokens of existing,
# active webhooks are remembered, so its size is bounded by the installation's webhooks.
MEMORY_SIZE = 1000


@dataclass(frozen=True)
class Remembered:
    webhook: Webhook  # as loaded, its passphrase revealed
    # The webhook's row as the delivery is judged on it (the passphrase as stored, which
    # changes whenever it is set: it is encrypted afresh), and its keys.
    row: dict


_memory: dict[str, Remembered] = {}

_webhook_by_token = prepared.PreparedQuery(lambda token: Webhook.objects.filter(token=token))
_keep_if_unchanged = prepared.InsertIfRow(
    InboundIPN, row_of=Webhook, match=("id", "token", "active", "passphrase", "accept_unsigned")
)


def load(token: str) -> Webhook | None:
    """The webhook a receive URL points at, read now, or None (also for a regenerated-away
    token); an active one is remembered. Its passphrase is decrypted here, so that a
    DecryptionError (a lost FIELD_ENCRYPTION_KEY) is raised where the receiver answers 503
    for it, before anything is read or stored."""
    _memory.pop(token, None)
    webhook = next(iter(_webhook_by_token(token)), None)
    if webhook is None:
        return None
    passphrase_as_stored = stored_text(webhook, "passphrase")
    reveal(webhook, "passphrase")
    if webhook.active:
        if len(_memory) >= MEMORY_SIZE:
            _memory.clear()
        row = {
            "id": webhook.pk,
            "token": token,
            "active": True,
            "passphrase": passphrase_as_stored,
            "accept_unsigned": webhook.accept_unsigned,
        }
        _memory[token] = Remembered(webhook, row)
    return webhook


def recall(token: str) -> Remembered | None:
    """The webhook as this process last loaded it, if it was active then."""
    return _memory.get(token)


def keep_if_unchanged(remembered: Remembered, values: dict) -> bool:
    """Keep an IPN (InboundIPN `values`, as ipn_store gives them) that was judged with the
    remembered webhook, if the webhook's row is still as remembered; else write nothing,
    forget it, and return False."""
    kept = _keep_if_unchanged(values, remembered.row)
    if not kept:
        _memory.pop(remembered.row["token"], None)
    return bool(kept)


@receiver(setting_changed)
def _forget_on_new_keys(*, setting, **kwargs):
    """Remembered passphrases were decrypted with the keys of the time; keys change within a
    process only in tests (override_settings), which must see the receiver as it would be
    after a restart with the new ones."""
    if setting == "FIELD_ENCRYPTION_KEY":
        _memory.clear()

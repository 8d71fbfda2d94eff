"""Sending IPNs as Digistore24 does: a realistic payload, signed with the connection's
passphrase, form-encoded and POSTed to a URL; success is a body starting with "OK".

`send_ipn` posts one sample (the CLI and `make demo`); `Notifier` posts what happens in the
stand-in's account to every connection registered with ipnSetup that wants it, in the
background so the API answer is not delayed, and keeps a record of each delivery.
"""

import threading
from dataclasses import dataclass

import requests

from webhooks import ipn, samples

EVENTS = tuple(samples.BY_EVENT)
FORM = "application/x-www-form-urlencoded; charset=utf-8"


def send_ipn(url: str, event: str, passphrase: str, *, timeout: float = 10, **fields: str):
    """POST one signed IPN of `event` (fields override the sample's); returns the response."""
    return _post(url, samples.BY_EVENT[event](**fields), passphrase, timeout)


def _post(url: str, params: dict[str, str], passphrase: str, timeout: float):
    return requests.post(
        url,
        data=samples.signed_body(params, passphrase),
        headers={"Content-Type": FORM},
        timeout=timeout,
        allow_redirects=False,
    )


@dataclass
class Connection:
    """An IPN connection as ipnSetup registers it; Digistore24 identifies it by the API key
    that created it and its domain_id."""

    ipn_id: str
    key_id: str
    domain_id: str
    ipn_url: str
    name: str
    product_ids: str  # "all" or a comma list
    categories: tuple[str, ...]
    transactions: tuple[str, ...]  # may contain "all"
    timing: str
    sha_passphrase: str
    newsletter_send_policy: str

    def wants(self, event: str, product_id: str) -> bool:
        # Which categories/transactions entry an event falls under is the event registry's.
        event_type = ipn.EVENT_TYPES.get(event)
        if event_type is None or event_type.ds24_category not in self.categories:
            return False
        transaction = event_type.ds24_transaction
        if transaction and "all" not in self.transactions and transaction not in self.transactions:
            return False
        return self.product_ids == "all" or product_id in self.product_ids.split(",")

    def info(self) -> dict[str, str]:
        """What ipnInfo shows: the settings, never the passphrase."""
        return {
            "ipn_id": self.ipn_id, "domain_id": self.domain_id, "ipn_url": self.ipn_url,
            "name": self.name, "product_ids": self.product_ids,
            "categories": ",".join(self.categories), "transactions": ",".join(self.transactions),
            "timing": self.timing, "newsletter_send_policy": self.newsletter_send_policy,
        }  # fmt: skip


@dataclass
class Delivery:
    """One IPN the stand-in posts, and what came back: `finished` is False while it is in
    flight; then `status` is the HTTP status, or None with an `error` when nothing answered."""

    ipn_id: str
    url: str
    event: str
    params: dict[str, str]  # as signed, without sha_sign
    finished: bool = False
    status: int | None = None
    body: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.body.startswith("OK")


class Notifier:
    """Posts IPNs in background threads. `deliveries` lists each one from the moment it is
    scheduled, so what was not sent is known as soon as the API call returns."""

    def __init__(self, *, timeout: float = 10):
        self.timeout = timeout
        self.deliveries: list[Delivery] = []
        self._changed = threading.Condition()

    def notify(self, connections, event: str, fields: dict[str, str]) -> None:
        """Post `event` to each connection that wants it, each in a thread of its own."""
        base = samples.BY_EVENT.get(event, samples.on_payment)
        product_id = fields.get("product_id", "")
        for connection in connections:
            if not connection.wants(event, product_id):
                continue
            # The sample gives the fields a real IPN has; the account's values replace its own.
            params = {
                **base(),
                **fields,
                "event": event,
                "ipn_config_id": connection.ipn_id,
                "ipn_config_domain_id": connection.domain_id,
                "ipn_config_product_ids": connection.product_ids,
                "ipn_config_api_key_id": connection.key_id,
            }
            delivery = Delivery(connection.ipn_id, connection.ipn_url, event, params)
            with self._changed:
                self.deliveries.append(delivery)
            threading.Thread(
                target=self._deliver, args=(delivery, connection.sha_passphrase), daemon=True
            ).start()

    def _deliver(self, delivery: Delivery, passphrase: str) -> None:
        try:
            response = _post(delivery.url, delivery.params, passphrase, self.timeout)
            delivery.status, delivery.body = response.status_code, response.text[:2000]
        except requests.RequestException as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"
        with self._changed:
            delivery.finished = True
            self._changed.notify_all()

    def wait(self, timeout: float = 15) -> list[Delivery]:
        """All deliveries scheduled so far, once each has finished (or `timeout` passed)."""
        with self._changed:
            self._changed.wait_for(lambda: all(d.finished for d in self.deliveries), timeout)
            return list(self.deliveries)

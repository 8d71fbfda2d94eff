"""Sending IPNs as Digistore24 does: a realistic payload, signed with the connection's
passphrase, form-encoded and POSTed to a URL; success is a body starting with "OK"."""

import requests

from webhooks import samples

EVENTS = tuple(samples.BY_EVENT)


def send_ipn(url: str, event: str, passphrase: str, *, timeout: float = 10, **fields: str):
    """POST one signed IPN of `event` (fields override the sample's); returns the response."""
    params = samples.BY_EVENT[event](**fields)
    return requests.post(
        url,
        data=samples.signed_body(params, passphrase),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        timeout=timeout,
        allow_redirects=False,
    )

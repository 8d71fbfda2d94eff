"""The REST API over a large event log (the one bench/admin_scale.py seeds): the first page,
a page deep in a followed cursor, and each single-field filter, timed in-process through
Django's test client with a bearer token (server time: queries + serialisation).

    .venv/bin/python bench/api_scale.py [--events 1000000] [--runs 5]
                                        [--database-url postgres://…/scratch]
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from admin_scale import prepare, time_requests  # noqa: E402


def main():
    args, user = prepare(__doc__.splitlines()[0])

    from django.conf import settings
    from django.test import Client

    from api.models import ApiToken
    from webhooks import follow
    from webhooks.models import Event, Webhook

    settings.API_THROTTLE_RATE = "1000000/min"
    token = ApiToken(user=user, name="bench")
    secret = token.issue()
    token.save()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    sample = Event.objects.order_by("-id")[50]
    ticket = Event.objects.filter(event="eticket").order_by("-id").first()
    affiliation = Event.objects.filter(event="on_affiliation").order_by("-id").first()
    deep = Event.objects.order_by("txid", "id")[int(args.events * 0.9)]
    deep_cursor = follow.position_of(deep).encode()
    events = "/api/v1/events/"
    requests = [
        ("first page (50, newest)", events, {}),
        ("first page (500)", events, {"page_size": 500}),
        ("follow from the start", f"{events}follow/", {}),
        ("follow, 90% deep (50)", f"{events}follow/", {"cursor": deep_cursor}),
        ("follow, 90% deep (500)", f"{events}follow/", {"cursor": deep_cursor, "limit": 500}),
        ("follow from latest", f"{events}follow/", {"start": "latest"}),
        ("filter event type (rare)", events, {"event": "on_chargeback"}),
        ("filter webhook", events, {"webhook": str(Webhook.objects.get(kind="all").public_id)}),
        ("filter kind", events, {"kind": "etickets"}),
        ("filter received_after", events, {"received_after": "2026-11-01T00:00:00Z"}),
        ("filter received_before", events, {"received_before": "2026-01-01T00:00:00Z"}),
        ("filter order_id", events, {"order_id": sample.order_id}),
        ("filter transaction_id", events, {"transaction_id": sample.transaction_id}),
        ("filter email", events, {"email": sample.email}),
        ("filter email, other case", events, {"email": sample.email.upper()}),
        ("filter order_id_prefix (4)", events, {"order_id_prefix": sample.order_id[:4]}),
        (
            "filter transaction_id_prefix (6)",
            events,
            {"transaction_id_prefix": sample.transaction_id[:6]},
        ),
        ("filter transaction_id_prefix, all", events, {"transaction_id_prefix": "1"}),
        ("filter buyer last name", events, {"buyer": "müller"}),
        ("filter buyer full name", events, {"buyer": "Jörg Müller"}),
        ("filter product_id", events, {"product_id": sample.product_id}),
        ("filter eticket_id", events, {"eticket_id": ticket.eticket_id}),
        ("filter affiliate_name", events, {"affiliate_name": affiliation.affiliate_name}),
        ("filter mode test", events, {"mode": "test"}),
        ("event detail", f"{events}{sample.public_id}/", {}),
    ]
    time_requests(client, requests, args.runs)


if __name__ == "__main__":
    main()

"""The Django side of the scale benchmark (bench/scale.py runs it in its own process, with the
app's environment): migrate, fill the event log to N events by bulk insert (a year of mixed
events, as the receiver would have stored them, dashboard roll-up included), and print as JSON
the requests to time, with the sample values they need, a login and an API token.

    python -m bench.seed --events 1000000
"""

import argparse
import hashlib
import json
import os
import random
import string
import sys
import time
import uuid
from datetime import timedelta

EVENT_MIX = [  # (event, weight)
    ("on_payment", 80),
    ("on_refund", 5),
    ("on_chargeback", 1),
    ("on_payment_missed", 2),
    ("on_rebill_cancelled", 2),
    ("last_paid_day", 2),
    ("eticket", 5),
    ("on_affiliation", 3),
]
# Buyer names: about 1 in 100 events is a Müller, as in a German customer base.
FIRST_NAMES = ["Jörg", "Anna", "Lena", "Hans", "Sören", "Maria", "Jürgen", "Eva", "Paul", "Zoë"]
LAST_NAMES = ["Müller", "Schmidt", "Weiß", "Schäfer", "Köhler", "Groß", "Nagel", "Becker"] + [
    f"Name{n:03d}" for n in range(92)
]
USERNAME = "bench"
# The export is a download that streams: what its page's p95 stands for is the download
# starting, its first screenful of rows (the whole log takes minutes at 1M, as any export would).
CSV_ROWS = 100
PASSWORD = "bench-password-not-secret"  # a scratch database's login


def seed(total: int) -> int:
    """Add events until there are `total`; returns how many were added."""
    from django.db import connection, transaction
    from django.utils import timezone

    from dashboard.models import DailyTotal
    from dashboard.services import dailytotals_rebuild
    from webhooks import ipn
    from webhooks.models import Event, Webhook
    from webhooks.services import webhook_create

    have = Event.objects.count()
    if have >= total:
        if not DailyTotal.objects.exists():  # seeded by a version that did not build it
            dailytotals_rebuild()
        return 0
    if connection.vendor == "sqlite":
        # This process's writes need not survive a crash: a lost seed is seeded again. A
        # cache of 1 GB (SQLite's default is 2 MB) holds the event table's many indexes, which
        # random inserts otherwise read and write back page by page: it halves the time.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-1000000")
    webhooks = {
        kind: Webhook.objects.filter(kind=kind).first() or webhook_create(name=kind, kind=kind)
        for kind in ("payments", "etickets", "affiliations", "all")
    }
    kind_of = {"eticket": "etickets", "on_affiliation": "affiliations"}
    events, weights = zip(*EVENT_MIX, strict=True)
    rng = random.Random(have)
    now = timezone.now()
    columns = [
        "webhook_id", "event", "scope", "payload", "payload_hash", "business_key", "order_id",
        "transaction_id", "product_id", "product_name", "email", "amount", "currency",
        "billing_type", "pay_sequence_no", "affiliate_name", "eticket_id", "api_mode",
        "signature", "sender_ip", "received", "last_delivered", "delivery_count", "signal_error",
        "public_id", "buyer_first_name", "buyer_last_name", "email_normalized",
        "buyer_name_normalized", "buyer_last_name_normalized",
    ]  # fmt: skip
    sql = (
        f"INSERT INTO webhooks_event ({', '.join(columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    public_id = Event._meta.get_field("public_id")
    batch_size = 10_000
    for start in range(have, total, batch_size):
        rows = []
        for n in range(start, min(start + batch_size, total)):
            event = rng.choices(events, weights)[0]
            webhook = webhooks[kind_of.get(event, "payments" if n % 10 else "all")]
            order_id = "".join(rng.choices(string.ascii_uppercase + string.digits, k=8))
            params = {
                "event": event,
                "api_mode": "test" if n % 20 == 0 else "live",
                "order_id": order_id,
                "transaction_id": str(100_000_000 + n),
                "product_id": str(rng.randint(1, 40)),
                "product_name": "Online-Kurs",
                "email": f"Buyer{rng.randint(1, 50_000)}@example.com",
                "buyer_first_name": rng.choice(FIRST_NAMES),
                "buyer_last_name": rng.choice(LAST_NAMES),
                "amount_brutto": "49.00",
                "currency": "EUR",
                "billing_type": "subscription",
                "pay_sequence_no": str(rng.randint(0, 11)),
                "pay_method": "creditcard",
            }
            if event == "eticket":
                params["eticket_id"] = str(10**19 + n)
            if event == "on_affiliation":
                params["affiliate_name"] = f"partner{rng.randint(1, 5000)}"
            pairs = list(params.items())
            received = now - timedelta(seconds=(total - n) * 31_536_000 / total)
            fields = Event.typed_fields(params)
            rows.append(
                (
                    webhook.pk, event, "accepted", json.dumps(pairs),
                    hashlib.sha256(f"{n}".encode()).hexdigest(), ipn.business_key(params),
                    fields["order_id"], fields["transaction_id"], fields["product_id"],
                    fields["product_name"], fields["email"], fields["amount"], fields["currency"],
                    fields["billing_type"], fields["pay_sequence_no"], fields["affiliate_name"],
                    fields["eticket_id"], fields["api_mode"],
                    "unsigned" if n % 1000 == 0 else "verified", "198.51.100.7",
                    received, received, 1, "",
                    public_id.get_db_prep_value(uuid.UUID(int=rng.getrandbits(128), version=4),
                                                connection),
                    fields["buyer_first_name"], fields["buyer_last_name"],
                    fields["email_normalized"], fields["buyer_name_normalized"],
                    fields["buyer_last_name_normalized"],
                )
            )  # fmt: skip
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM webhooks_event")
            (last,) = cursor.fetchone()
            cursor.executemany(sql, rows)
            # History, as if followed up long ago: the database's trigger queued each row, and
            # a worker would otherwise forward a year of events (the rebuild below counts them).
            cursor.execute("DELETE FROM webhooks_followup WHERE event_id > %s", [last])
        print(f"seed: {start + len(rows)} events", file=sys.stderr, flush=True)
    dailytotals_rebuild()  # the receiver keeps the roll-ups; the bulk insert did not
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return total - have


def admin_requests() -> list[dict]:
    """Every page and query the admin offers over the event log, and the dashboard."""
    from django.urls import reverse
    from django.utils import timezone

    from webhooks.models import Event, RejectedDelivery, Webhook

    events = reverse("admin:webhooks_event_changelist")
    sample = Event.objects.order_by("-id")[50]
    ticket = Event.objects.filter(event="eticket").order_by("-id").first()
    affiliation = Event.objects.filter(event="on_affiliation").order_by("-id").first()
    payments = Webhook.objects.get(kind="payments")
    today = timezone.localdate()
    listed = [
        ("dashboard (admin index)", reverse("admin:index"), {}),
        ("event list", events, {}),
        ("event list, page 50", events, {"p": "49"}),
        ("filter webhook", events, {"webhook__id__exact": payments.pk}),
        ("filter kind", events, {"kind": "etickets"}),
        ("filter event type (rare)", events, {"event": "on_chargeback"}),
        ("filter signature unsigned", events, {"signature__exact": "unsigned"}),
        ("filter test mode", events, {"mode": "test"}),
        ("filter received today", events, {"received": "today"}),
        ("filter received 30 days", events, {"received": "30d"}),
        (
            "filter custom range",
            events,
            {
                "received_from": str(today - timedelta(days=200)),
                "received_to": str(today - timedelta(days=190)),
            },
        ),
        ("search order_id", events, {"q": sample.order_id}),
        ("search transaction_id", events, {"q": sample.transaction_id}),
        ("search email", events, {"q": sample.email}),
        ("search email, other case", events, {"q": sample.email.upper()}),
        ("search order_id prefix (4)", events, {"q": sample.order_id[:4]}),
        ("search transaction_id prefix (6)", events, {"q": sample.transaction_id[:6]}),
        ("search id prefix, all rows", events, {"q": "1"}),
        ("search buyer last name", events, {"q": "müller"}),
        ("search buyer full name", events, {"q": "Jörg Müller"}),
        ("search buyer name, one letter", events, {"q": "m"}),
        ("search eticket_id", events, {"q": ticket.eticket_id}),
        ("search affiliate_name", events, {"q": affiliation.affiliate_name}),
        ("search with no match", events, {"q": "nobody@nowhere.example"}),
        ("search name, no match", events, {"q": "Nobody Nowhere"}),
        ("payments list", reverse("admin:webhooks_paymentevent_changelist"), {}),
        ("e-tickets list", reverse("admin:webhooks_eticketevent_changelist"), {}),
        ("affiliations list", reverse("admin:webhooks_affiliationevent_changelist"), {}),
        ("event detail", reverse("admin:webhooks_event_change", args=[sample.pk]), {}),
        ("webhook list (24 h health)", reverse("admin:webhooks_webhook_changelist"), {}),
        ("rejected list", reverse("admin:webhooks_rejecteddelivery_changelist"), {}),
        # Timed to its first CSV_ROWS rows (see CSV_ROWS).
        (f"CSV export, first {CSV_ROWS} rows", reverse("admin:webhooks_event_export"), {}),
    ]
    rejected = RejectedDelivery.objects.first()
    if rejected:
        detail = reverse("admin:webhooks_rejecteddelivery_change", args=[rejected.pk])
        listed.append(("rejected detail", detail, {}))
    return [
        {"group": "admin", "label": label, "path": path, "params": params}
        | ({"lines": CSV_ROWS} if label.startswith("CSV") else {})
        for label, path, params in listed
    ]


def api_requests(total: int) -> list[dict]:
    """The REST API's first pages, a follow deep into the log, and each filter."""
    from django.utils import timezone

    from webhooks import follow
    from webhooks.models import Event, Webhook

    sample = Event.objects.order_by("-id")[50]
    ticket = Event.objects.filter(event="eticket").order_by("-id").first()
    affiliation = Event.objects.filter(event="on_affiliation").order_by("-id").first()
    deep = Event.objects.order_by("txid", "id")[int(total * 0.9)]
    deep_cursor = follow.position_of(deep).encode()
    month_ago = (timezone.now() - timedelta(days=30)).isoformat()
    half_year_ago = (timezone.now() - timedelta(days=180)).isoformat()
    events = "/api/v1/events/"
    listed = [
        ("first page (50, newest)", events, {}),
        ("first page (500)", events, {"page_size": 500}),
        ("follow from the start", f"{events}follow/", {}),
        ("follow, 90% deep (50)", f"{events}follow/", {"cursor": deep_cursor}),
        ("follow, 90% deep (500)", f"{events}follow/", {"cursor": deep_cursor, "limit": 500}),
        ("follow from latest", f"{events}follow/", {"start": "latest"}),
        ("filter event type (rare)", events, {"event": "on_chargeback"}),
        ("filter webhook", events, {"webhook": str(Webhook.objects.get(kind="all").public_id)}),
        ("filter kind", events, {"kind": "etickets"}),
        ("filter received_after", events, {"received_after": month_ago}),
        ("filter received_before", events, {"received_before": half_year_ago}),
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
        ("filter buyer last name", events, {"buyer": "müller"}),
        ("filter buyer full name", events, {"buyer": "Jörg Müller"}),
        ("filter product_id", events, {"product_id": sample.product_id}),
        ("filter eticket_id", events, {"eticket_id": ticket.eticket_id}),
        ("filter affiliate_name", events, {"affiliate_name": affiliation.affiliate_name}),
        ("filter mode test", events, {"mode": "test"}),
        ("event detail", f"{events}{sample.public_id}/", {}),
    ]
    return [{"group": "api", "label": label, "path": path, "params": params}
            for label, path, params in listed]  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, required=True)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ds24site.settings")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from api.models import ApiToken

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    added = seed(args.events)
    if added:  # the dashboard reads the roll-up the receiver keeps, which the insert skipped
        call_command("rebuildtotals", stdout=sys.stderr)
    user = User.objects.filter(username=USERNAME).first() or User(
        username=USERNAME, is_staff=True, is_superuser=True
    )
    user.set_password(PASSWORD)
    user.save()
    token = ApiToken(user=user, name="bench")
    secret = token.issue()
    token.save()
    print(
        json.dumps(
            {
                "events": args.events,
                "seeded": added,
                "seed_seconds": time.monotonic() - started,
                "username": USERNAME,
                "password": PASSWORD,
                "token": secret,
                "requests": admin_requests() + api_requests(args.events),
            }
        )
    )


if __name__ == "__main__":
    main()

"""Destination pages: health and success rate in the list, recent activity on the change page,
the secret shown once / revealed on purpose / rotated, Send test event, Replay, and the admins
told by email when a destination is disabled."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from standardwebhooks import Webhook as StandardWebhook

from forwarding import services
from forwarding.models import Attempt, Delivery, Destination
from tests.conftest import follow_up, on_payment, run_tasks, signed
from webhooks.models import Event

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:forwarding_destination_changelist"


@pytest.fixture
def destination(db):
    return Destination.objects.create(name="CRM", url="https://crm.example.com/hooks")


def url(name, destination):
    return reverse(f"admin:forwarding_destination_{name}", args=[destination.pk])


def page(client, path):
    response = client.get(path)
    assert response.status_code == 200, response
    return response.content.decode()


def deliveries(destination, post_ipn, webhook, statuses):
    """One stored event per status, with its delivery to `destination` set to that status."""
    made = []
    for n, status in enumerate(statuses):
        post_ipn(webhook, signed(on_payment(order_id=f"ORDER{n}", transaction_id=str(n))))
        follow_up()
        delivery = Delivery.objects.get(event__order_id=f"ORDER{n}", destination=destination)
        Delivery.objects.filter(pk=delivery.pk).update(status=status)
        made.append(delivery)
    return made


# --- The list ------------------------------------------------------------------------------


def row(html, name):
    return next(r for r in html.split("<tr") if f">{name}<br>" in r)  # name, URL under it


def test_list_shows_status_and_success_rate(forwarding_staff, destination, post_ipn, webhook):
    deliveries(destination, post_ipn, webhook, ["succeeded", "succeeded", "succeeded", "failed"])
    failing = Destination.objects.create(
        name="Flaky", url="https://flaky.example.com/", failing_since=timezone.now()
    )
    Destination.objects.create(
        name="Off",
        url="https://off.example.com/",
        active=False,
        disabled_reason="every delivery failed for 1 day",
    )
    html = page(forwarding_staff, reverse(CHANGELIST))
    assert 'ds24-badge receiving">Healthy' in row(html, "CRM")
    assert "75.0% <small" in row(html, "CRM") and "(3/4)" in row(html, "CRM")
    assert 'ds24-badge paused">Failing' in row(html, failing.name)
    assert "—" in row(html, failing.name)  # no deliveries: no rate
    off = row(html, "Off")
    assert 'ds24-badge rejecting" title="every delivery failed for 1 day">Disabled' in off


def test_success_rate_counts_only_the_last_seven_days(
    forwarding_staff, destination, post_ipn, webhook
):
    old, _ = deliveries(destination, post_ipn, webhook, ["failed", "succeeded"])
    Delivery.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(days=8))
    html = page(forwarding_staff, reverse(CHANGELIST))
    assert "100% <small" in row(html, "CRM") and "(1/1)" in row(html, "CRM")


def test_list_query_count_does_not_grow_with_destinations(
    forwarding_staff, post_ipn, webhook, django_assert_max_num_queries
):
    for n in range(6):
        Destination.objects.create(name=f"D{n}", url=f"https://d{n}.example.com/")
    post_ipn(webhook, signed(on_payment()))
    with django_assert_max_num_queries(8):
        assert forwarding_staff.get(reverse(CHANGELIST)).status_code == 200


# --- Adding, and the secret -----------------------------------------------------------------


def test_add_shows_the_secret_once(forwarding_staff, webhook):
    response = forwarding_staff.post(
        reverse("admin:forwarding_destination_add"),
        {
            "name": "Shop",
            "url": "https://shop.example.com/in",
            "webhook": webhook.pk,
            "event_types": ["on_payment", "on_refund"],
            "mode": "live",
            "active": "on",
        },
    )
    assert response.status_code == 200
    destination = Destination.objects.get()
    assert destination.event_types == ["on_payment", "on_refund"]
    assert destination.webhook == webhook and destination.mode == "live"
    html = response.content.decode()
    assert f'<code id="signing-secret">{destination.secret}</code>' in html
    assert f'data-copy="{destination.secret}"' in html
    assert "no-store" in response["Cache-Control"]
    change = page(forwarding_staff, url("change", destination))
    assert destination.secret not in change
    assert destination.secret_hint in change


def test_add_refuses_a_url_forwarding_may_not_send_to(forwarding_staff):
    response = forwarding_staff.post(
        reverse("admin:forwarding_destination_add"),
        {"name": "Inside", "url": "https://10.0.0.5/hook", "mode": "both", "active": "on"},
    )
    assert response.status_code == 200
    assert "10.0.0.5 is a private address" in response.content.decode()
    assert not Destination.objects.exists()


def test_reveal_secret_asks_first_then_shows_and_logs(forwarding_staff, destination):
    confirm = page(forwarding_staff, url("reveal_secret", destination))
    assert "Yes, show the secret" in confirm and destination.secret not in confirm
    response = forwarding_staff.post(url("reveal_secret", destination))
    html = response.content.decode()
    assert f'data-copy="{destination.secret}"' in html
    assert "the reveal is logged" in html
    assert LogEntry.objects.get().change_message == "Revealed the signing secret"


def test_view_only_staff_can_neither_reveal_nor_rotate(forwarding_viewer, destination):
    html = page(forwarding_viewer, url("change", destination))
    assert destination.secret not in html
    for button in ("Reveal secret", "Rotate secret", "Send test event", "Replay"):
        assert button not in html
    for name in ("reveal_secret", "rotate_secret", "replay"):
        assert forwarding_viewer.get(url(name, destination)).status_code == 403
        assert forwarding_viewer.post(url(name, destination)).status_code == 403
    assert forwarding_viewer.post(url("send_test", destination)).status_code == 403
    assert Destination.objects.get().secret == destination.secret


def test_rotate_secret_asks_first_then_signs_with_both_for_the_grace_period(
    forwarding_staff, destination
):
    old = destination.secret
    confirm = page(forwarding_staff, url("rotate_secret", destination))
    assert "Yes, rotate the secret" in confirm and "24 hours" in confirm
    assert Destination.objects.get().secret == old  # nothing happened yet

    response = forwarding_staff.post(url("rotate_secret", destination))
    destination.refresh_from_db()
    assert destination.secret != old and destination.secret.startswith("whsec_")
    assert destination.signing_secrets() == [destination.secret, old]
    html = response.content.decode()
    assert f'data-copy="{destination.secret}"' in html and old not in html
    assert "New signing secret; the old one keeps signing for 24 hours." in html


# --- Send test event --------------------------------------------------------------------------


def test_send_test_event_posts_a_signed_sample_and_stores_nothing(
    forwarding_staff, receiver, webhook
):
    destination = Destination.objects.create(
        name="Local", url=receiver.url, event_types=["on_refund"]
    )
    response = forwarding_staff.post(url("send_test", destination), follow=True)
    html = response.content.decode()
    assert "Sent a signed test on_refund" in html
    assert "HTTP 200: \u201cok\u201d" in html
    [request] = receiver.requests
    message = StandardWebhook(destination.secret).verify(request.body, request.headers)
    assert message["type"] == "on_refund" and message["data"]["api_mode"] == "test"
    assert not Event.objects.exists() and not Delivery.objects.exists()


def test_send_test_event_reports_a_failing_receiver(forwarding_staff, receiver):
    receiver.answer(500)
    destination = Destination.objects.create(name="Local", url=receiver.url)
    html = forwarding_staff.post(url("send_test", destination), follow=True).content.decode()
    assert "answered HTTP 500" in html and 'class="error"' in html


def test_send_test_event_to_a_refused_address_says_why(forwarding_staff, destination):
    Destination.objects.filter(pk=destination.pk).update(url="http://127.0.0.1:9/")
    html = forwarding_staff.post(url("send_test", destination), follow=True).content.decode()
    assert "only https:// URLs are allowed" in html


def test_send_test_event_refuses_get(forwarding_staff, destination):
    assert forwarding_staff.get(url("send_test", destination)).status_code == 405


# --- Replay -----------------------------------------------------------------------------------


def replay(client, destination, since, until, **extra):
    local = timezone.localtime
    data = {
        "since_0": local(since).strftime("%Y-%m-%d"),
        "since_1": local(since).strftime("%H:%M:%S"),
        "until_0": local(until).strftime("%Y-%m-%d"),
        "until_1": local(until).strftime("%H:%M:%S"),
        **extra,
    }
    return client.post(url("replay", destination), data, follow=True)


def test_replay_sends_missed_and_failed_events_in_the_range(
    forwarding_staff, post_ipn, webhook, destination
):
    now = timezone.now()
    # Two events while the destination was off (no delivery), one failed, one succeeded, and
    # one outside the range.
    Destination.objects.filter(pk=destination.pk).update(active=False)
    for n in range(2):
        post_ipn(webhook, signed(on_payment(order_id=f"MISSED{n}", transaction_id=f"m{n}")))
    Destination.objects.filter(pk=destination.pk).update(active=True)
    failed, succeeded, outside = deliveries(
        destination, post_ipn, webhook, ["failed", "succeeded", "failed"]
    )
    Event.objects.filter(pk=outside.event_id).update(received=now - timedelta(days=3))
    tasks_before = DBTaskResult.objects.count()

    html = replay(forwarding_staff, destination, now - timedelta(hours=1), now + timedelta(hours=1))
    assert (
        "Replay to CRM: 2 new deliveries, 1 sent again, 1 already delivered"
        in html.content.decode()
    )
    assert Delivery.objects.filter(event__order_id__startswith="MISSED").count() == 2
    assert Delivery.objects.get(pk=failed.pk).status == "pending"
    assert Delivery.objects.get(pk=succeeded.pk).status == "succeeded"
    assert Delivery.objects.get(pk=outside.pk).status == "failed"
    assert DBTaskResult.objects.count() == tasks_before + 3  # one task per delivery to send


def test_replay_can_resend_what_was_delivered(forwarding_staff, post_ipn, webhook, destination):
    [succeeded] = deliveries(destination, post_ipn, webhook, ["succeeded"])
    now = timezone.now()
    response = replay(
        forwarding_staff,
        destination,
        now - timedelta(hours=1),
        now + timedelta(hours=1),
        resend_delivered="on",
    )
    assert "0 new deliveries, 1 sent again" in response.content.decode()
    assert Delivery.objects.get(pk=succeeded.pk).status == "pending"


def test_replay_only_takes_events_the_destination_takes(forwarding_staff, post_ipn, webhook):
    refunds = Destination.objects.create(
        name="Refunds", url="https://r.example.com/", event_types=["on_refund"], mode="live"
    )
    post_ipn(webhook, signed(on_payment()))
    post_ipn(webhook, signed(on_payment(event="on_refund", transaction_id="r1")))
    post_ipn(webhook, signed(on_payment(event="on_refund", transaction_id="r2", api_mode="test")))
    follow_up()
    Delivery.objects.all().delete()
    now = timezone.now()
    replay(forwarding_staff, refunds, now - timedelta(hours=1), now + timedelta(hours=1))
    [delivery] = Delivery.objects.all()
    assert delivery.event.transaction_id == "r1"
    # The SQL rule agrees with the one routing uses for each event.
    matching = [e.pk for e in Event.objects.all() if refunds.matches(e) and e.scope == "accepted"]
    assert matching == [delivery.event_id]


def test_replay_over_the_cap_is_refused_whole(
    forwarding_staff, post_ipn, webhook, destination, monkeypatch
):
    monkeypatch.setattr(services, "REPLAY_MAX", 2)
    for n in range(3):
        post_ipn(webhook, signed(on_payment(transaction_id=str(n))))
    follow_up()
    Delivery.objects.all().delete()
    now = timezone.now()
    html = replay(
        forwarding_staff, destination, now - timedelta(hours=1), now + timedelta(hours=1)
    ).content.decode()
    assert "More than 2 events in that range; replay at most 2 at a time" in html
    assert not Delivery.objects.exists()


def test_replay_refuses_a_backwards_range_and_a_disabled_destination(forwarding_staff, destination):
    now = timezone.now()
    html = replay(forwarding_staff, destination, now, now - timedelta(hours=1)).content.decode()
    assert "must be before" in html
    Destination.objects.filter(pk=destination.pk).update(active=False)
    html = replay(forwarding_staff, destination, now - timedelta(hours=1), now).content.decode()
    assert "CRM is disabled; enable it first." in html


# --- Disabled after failing for a day -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # admins are told once the disabling commits
def test_a_destination_failing_for_a_day_is_disabled_red_and_admins_are_emailed(
    forwarding_staff, receiver, post_ipn, webhook, settings, admin_user
):
    settings.ADMINS = [("", "ops@example.com")]
    User.objects.filter(pk=admin_user.pk).update(email="root@example.com")
    receiver.answer(500)
    destination = Destination.objects.create(
        name="Down", url=receiver.url, failing_since=timezone.now() - timedelta(days=1, hours=1)
    )
    post_ipn(webhook, signed(on_payment()))
    run_tasks()

    destination.refresh_from_db()
    assert not destination.active and destination.status == "disabled"
    [email] = mail.outbox
    assert email.subject == "[ds24site] Forwarding to Down was disabled"
    assert sorted(email.to) == ["ops@example.com", "root@example.com"]
    assert destination.disabled_reason in email.body
    assert url("change", destination) in email.body
    html = page(forwarding_staff, reverse(CHANGELIST))
    assert 'ds24-badge rejecting"' in row(html, "Down")
    change = page(forwarding_staff, url("change", destination))
    assert 'class="ds24-warning">Disabled: ' in change


def test_enabling_again_clears_the_failure_streak(forwarding_staff, destination):
    Destination.objects.filter(pk=destination.pk).update(
        active=False,
        failing_since=timezone.now() - timedelta(days=2),
        disabled_reason="every delivery failed",
        disabled_at=timezone.now(),
    )
    response = forwarding_staff.post(
        url("change", destination),
        {"name": "CRM", "url": destination.url, "mode": "both", "active": "on"},
        follow=True,
    )
    assert "CRM is enabled again" in response.content.decode()
    destination.refresh_from_db()
    assert destination.status == "healthy" and destination.failing_since is None
    assert destination.disabled_reason == "" and destination.disabled_at is None


# --- The change page ---------------------------------------------------------------------------


def test_change_page_shows_recent_deliveries_and_attempts(
    forwarding_staff, post_ipn, webhook, destination, django_assert_max_num_queries
):
    [delivery] = deliveries(destination, post_ipn, webhook, ["failed"])
    Attempt.objects.create(
        delivery=delivery, number=1, duration_ms=120, status_code=503, response_excerpt="busy"
    )
    with django_assert_max_num_queries(12):
        html = page(forwarding_staff, url("change", destination))
    assert "Latest 20 deliveries" in html and "on_payment ORDER0" in html
    assert reverse("admin:forwarding_delivery_change", args=[delivery.pk]) in html
    assert 'ds24-badge rejecting">Failed' in html
    assert "<td>#1</td><td>503</td><td>120&nbsp;ms</td><td>busy</td>" in html


def test_a_destination_with_deliveries_cannot_be_deleted_one_without_can(
    forwarding_staff, post_ipn, webhook, destination
):
    deliveries(destination, post_ipn, webhook, ["succeeded"])
    empty = Destination.objects.create(name="Empty", url="https://empty.example.com/")
    assert forwarding_staff.get(url("delete", destination)).status_code == 403
    assert 'value="delete_selected"' not in page(forwarding_staff, reverse(CHANGELIST))
    assert forwarding_staff.post(url("delete", empty), {"post": "yes"}).status_code == 302
    assert list(Destination.objects.values_list("name", flat=True)) == ["CRM"]

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from tests.conftest import on_payment, run_command, signed
from webhooks.models import Event, RejectedDelivery

# run_from_argv closes connections at the end, as manage.py does.
pytestmark = pytest.mark.django_db(transaction=True)


def run(*args):
    return run_command("pruneevents", *args)


@pytest.fixture
def aged(post_ipn, webhook):
    """Five events and three rejections at 1, 10, 40, 100 and 400 days old."""
    for age in (1, 10, 40, 100, 400):
        post_ipn(webhook, signed(on_payment(transaction_id=str(age))))
        Event.objects.filter(transaction_id=str(age)).update(
            received=timezone.now() - timedelta(days=age)
        )
    for age in (1, 40, 400):
        post_ipn(webhook, on_payment(transaction_id=f"r{age}"))  # unsigned: rejected
        RejectedDelivery.objects.filter(pk=RejectedDelivery.objects.latest("id").pk).update(
            received=timezone.now() - timedelta(days=age)
        )


def remaining_ages():
    return sorted(int(t) for t in Event.objects.values_list("transaction_id", flat=True))


def test_deletes_older_events_and_rejections_in_batches(aged):
    code, out, _ = run("--older-than", "30", "--batch-size", "1")
    assert code == 0
    assert out.startswith("Deleted 3 events and 2 rejected deliveries received before ")
    assert remaining_ages() == [1, 10]
    assert RejectedDelivery.objects.count() == 1


def test_dry_run_only_counts(aged):
    code, out, _ = run("--older-than", "30", "--dry-run")
    assert code == 0
    assert out.startswith("Would delete 3 events and 2 rejected deliveries")
    assert Event.objects.count() == 5 and RejectedDelivery.objects.count() == 3


@override_settings(EVENT_RETENTION_DAYS=90)
def test_default_comes_from_event_retention_days(aged):
    run()
    assert remaining_ages() == [1, 10, 40]


def test_without_retention_keeps_everything(aged):
    code, out, _ = run()
    assert code == 0 and "keeping everything" in out
    assert Event.objects.count() == 5


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (("--older-than", "0"), "between 1 and 36500 days"),
        (("--older-than", "1000000"), "between 1 and 36500 days"),
        (("--older-than", "soon"), "invalid int value: 'soon'"),
        (("--older-than", "30", "--batch-size", "0"), "--batch-size must be at least 1"),
    ],
)
def test_bad_arguments_exit_non_zero_with_one_line(aged, args, why):
    code, out, err = run(*args)
    assert code != 0 and out == ""
    assert err.count("\n") == 1 and why in err
    assert Event.objects.count() == 5

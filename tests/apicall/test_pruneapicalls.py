from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from apicall.models import ApiCall
from tests.conftest import run_command

# run_from_argv closes connections at the end, as manage.py does.
pytestmark = pytest.mark.django_db(transaction=True)


def run(*args):
    return run_command("pruneapicalls", *args)


@pytest.fixture
def aged(record):
    """Calls made 1, 10, 40, 100 and 400 days ago."""
    for age in (1, 10, 40, 100, 400):
        call = record(url=f"getPurchase?purchase_id={age}")
        ApiCall.objects.filter(pk=call.pk).update(created=timezone.now() - timedelta(days=age))


def remaining_ages():
    return sorted(int(pairs[0][1]) for pairs in ApiCall.objects.values_list("query", flat=True))


def test_deletes_older_calls_in_batches(aged):
    code, out, _ = run("--older-than", "30", "--batch-size", "1")
    assert code == 0
    assert out.startswith("Deleted 3 API calls made before ")
    assert remaining_ages() == [1, 10]


def test_dry_run_only_counts(aged):
    code, out, _ = run("--older-than", "30", "--dry-run")
    assert code == 0 and out.startswith("Would delete 3 API calls")
    assert ApiCall.objects.count() == 5


@override_settings(APICALL_RETENTION_DAYS=90)
def test_default_comes_from_apicall_retention_days(aged):
    run()
    assert remaining_ages() == [1, 10, 40]


def test_without_retention_keeps_everything(aged):
    code, out, _ = run()
    assert code == 0 and "keeping everything" in out
    assert ApiCall.objects.count() == 5


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (("--older-than", "0"), "between 1 and 36500 days"),
        (("--older-than", "soon"), "invalid int value: 'soon'"),
        (("--older-than", "30", "--batch-size", "0"), "--batch-size must be at least 1"),
    ],
)
def test_bad_arguments_exit_non_zero_with_one_line(aged, args, why):
    code, out, err = run(*args)
    assert code != 0 and out == ""
    assert err.count("\n") == 1 and why in err
    assert ApiCall.objects.count() == 5

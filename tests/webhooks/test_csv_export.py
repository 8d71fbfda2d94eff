import codecs
import csv
import io
import zoneinfo
from datetime import datetime

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from tests.conftest import ARABIC_INDIC, FULLWIDTH, in_digits, on_payment, signed
from webhooks import samples
from webhooks.models import Event

pytestmark = pytest.mark.django_db


def exported(response, name="events", delimiter=","):
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="{name}-')
    content = b"".join(response.streaming_content)
    assert content.startswith(codecs.BOM_UTF8)  # or Excel guesses a legacy code page
    text = content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


def test_exports_the_current_filtered_list_streamed(staff_client, post_ipn, webhook):
    post_ipn(webhook, signed(on_payment()))
    post_ipn(webhook, signed(on_payment(order_id="ZZZ", transaction_id="2")))
    post_ipn(webhook, signed(samples.connection_test()))

    everything = exported(staff_client.get(reverse("admin:webhooks_event_export")))
    assert [row["event"] for row in everything] == ["connection_test", "on_payment", "on_payment"]

    rows = exported(
        staff_client.get(
            reverse("admin:webhooks_event_export"), {"event": "on_payment", "q": "ZZZ"}
        )
    )
    [row] = rows
    assert row["order_id"] == "ZZZ"
    assert row["amount"] == "49.00" and row["currency"] == "EUR"
    assert row["webhook"] == "Payments"
    assert row["product_name"] == "Online-Kurs Jörg"


def test_untrusted_text_cannot_become_a_spreadsheet_formula(staff_client, post_ipn, webhook):
    post_ipn(webhook, signed(on_payment(product_name='=HYPERLINK("http://evil")')))
    [row] = exported(staff_client.get(reverse("admin:webhooks_event_export")))
    assert row["product_name"] == '\'=HYPERLINK("http://evil")'


FORMULA_ACROSS_SEPARATORS = "x;=1+1;y,=2+2,"


@pytest.mark.parametrize("sep", ["comma", "semicolon"])
def test_no_cell_becomes_a_formula_in_either_separator_mode(staff_client, post_ipn, webhook, sep):
    """Excel splits at `,` or `;` by locale, whichever the file uses: a cell holding the other
    separator must not fall apart into cells that start with `=`."""
    post_ipn(webhook, signed(on_payment(product_name=FORMULA_ACROSS_SEPARATORS)))
    response = staff_client.get(reverse("admin:webhooks_event_export"), {"sep": sep})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    for delimiter in ",;":  # read as either kind of spreadsheet would
        for cells in csv.reader(io.StringIO(text), delimiter=delimiter):
            assert not [cell for cell in cells if cell.lstrip().startswith(("=", "+", "@"))]
    [row] = csv.DictReader(io.StringIO(text), delimiter=SEPARATOR[sep])
    assert row["product_name"] == "x;'=1+1;y,'=2+2,"


SEPARATOR = {"comma": ",", "semicolon": ";"}


def test_excel_semicolon_mode_has_decimal_commas(staff_client, post_ipn, webhook):
    post_ipn(webhook, signed(on_payment(amount_netto="41.18", amount_vat="7.82")))
    response = staff_client.get(reverse("admin:webhooks_event_export"), {"sep": "semicolon"})
    [row] = exported(response, delimiter=";")
    assert (row["amount"], row["net"], row["vat"]) == ("49,00", "41,18", "7,82")


def test_buyer_country_net_vat_and_whole_second_times(staff_client, post_ipn, webhook, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    params = on_payment(
        address_first_name="Jörg",
        address_last_name="Müller",
        address_country="DE",
        amount_netto="41.176",
        amount_vat="7.82",
    )
    post_ipn(webhook, signed(params))
    [row] = exported(staff_client.get(reverse("admin:webhooks_event_export")))
    assert row["buyer_name"] == "Jörg Müller" and row["country"] == "DE"
    assert (row["amount"], row["net"], row["vat"]) == ("49.00", "41.176", "7.82")
    received = datetime.strptime(row["received"], "%Y-%m-%d %H:%M:%S")  # whole seconds
    event = Event.objects.get()
    local = event.received.astimezone(zoneinfo.ZoneInfo("Europe/Berlin"))
    assert received == local.replace(microsecond=0, tzinfo=None)


def test_negative_amounts_are_numbers_not_escaped(staff_client, post_ipn, webhook):
    post_ipn(webhook, signed(on_payment(event="on_refund", amount_brutto="-49.00")))
    [row] = exported(staff_client.get(reverse("admin:webhooks_event_export")))
    assert row["amount"].lstrip("'") == row["amount"]


def test_unknown_separator_is_a_400(staff_client, webhook):
    response = staff_client.get(reverse("admin:webhooks_event_export"), {"sep": "tab"})
    assert response.status_code == 400 and b"sep must be one of" in response.content


def test_trigger_lists_export_their_own_events(staff_client, post_ipn, webhook):
    post_ipn(webhook, signed(on_payment()))
    post_ipn(webhook, signed(samples.connection_test()))
    response = staff_client.get(reverse("admin:webhooks_paymentevent_export"))
    assert [row["event"] for row in exported(response, "payments")] == ["on_payment"]


def test_bad_filter_is_a_400(staff_client, webhook):
    response = staff_client.get(reverse("admin:webhooks_event_export"), {"received": "someday"})
    assert response.status_code == 400


def test_export_is_linked_from_the_list_with_the_current_filters(staff_client, webhook):
    html = staff_client.get(reverse("admin:webhooks_event_changelist"), {"event": "on_refund"})
    assert 'href="/admin/webhooks/event/export/?event=on_refund"' in html.content.decode()


def test_batches_cover_every_row_once_even_with_equal_timestamps(post_ipn, webhook):
    from django.utils import timezone

    from ds24site.csv_export import newest_first_in_batches
    from webhooks.models import Event

    for n in range(7):
        post_ipn(webhook, signed(on_payment(transaction_id=str(n))))
    same_time = timezone.now()
    Event.objects.filter(transaction_id__in=["2", "3", "4", "5"]).update(received=same_time)
    rows = Event.objects.values_list("id", "received", "transaction_id")
    expected = list(rows.order_by("-received", "-id"))
    assert list(newest_first_in_batches(rows, size=2)) == expected
    assert len(expected) == 7


def test_amounts_in_other_digits_are_exported_as_received(staff_client, post_ipn, webhook):
    # Arabic-Indic and fullwidth digits are no amount: neither stored nor exported as one.
    amount, net = in_digits("49.00", ARABIC_INDIC), in_digits("41.18", FULLWIDTH)
    post_ipn(webhook, signed(on_payment(amount_brutto=amount, amount_netto=net)))
    [row] = exported(staff_client.get(reverse("admin:webhooks_event_export")))
    assert (row["amount"], row["net"]) == ("", net)
    assert Event.objects.get().amount is None

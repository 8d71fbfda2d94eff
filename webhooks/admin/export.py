"""The event log's CSV export: its columns (the export itself is ds24site.csv_export's)."""

from ds24site import numbers
from ds24site.csv_export import csv_time, money

# The export's columns: (header, how to get it from a row's CSV_FIELDS); amounts and times
# are formatted here, what came from the payload is made formula-safe by csv_lines.
CSV_FIELDS = [
    "id",
    "received",
    "event",
    "scope",
    "webhook__name",
    "order_id",
    "transaction_id",
    "product_id",
    "product_name",
    "email",
    "amount",
    "currency",
    "billing_type",
    "pay_sequence_no",
    "affiliate_name",
    "eticket_id",
    "api_mode",
    "signature",
    "delivery_count",
    "last_delivered",
    "business_key",
    "payload",
]


def csv_param_amount(params: dict, *keys: str, separator: str) -> str:
    """An amount from the payload, as money when it is a number, else as received."""
    value = next((params[key] for key in keys if params.get(key)), "")
    try:
        return money(numbers.parse_decimal(value.strip()), separator)
    except ValueError:
        return value


def csv_row(row: dict, separator: str) -> list:
    params = dict(row["payload"])
    buyer = [params.get("address_first_name"), params.get("address_last_name")]
    if not any(buyer):
        buyer = [params.get("buyer_first_name"), params.get("buyer_last_name")]
    return [
        row["id"],
        csv_time(row["received"]),
        row["event"],
        row["scope"],
        row["webhook__name"],
        row["order_id"],
        row["transaction_id"],
        row["product_id"],
        row["product_name"],
        " ".join(filter(None, buyer)),
        row["email"],
        params.get("address_country") or params.get("country", ""),
        money(row["amount"], separator),
        csv_param_amount(params, "amount_netto", separator=separator),
        csv_param_amount(params, "amount_vat", "vat_amount", separator=separator),
        row["currency"],
        row["billing_type"],
        row["pay_sequence_no"],
        row["affiliate_name"],
        row["eticket_id"],
        row["api_mode"],
        row["signature"],
        row["delivery_count"],
        csv_time(row["last_delivered"]),
        row["business_key"],
    ]


CSV_HEADER = [
    "id",
    "received",
    "event",
    "scope",
    "webhook",
    "order_id",
    "transaction_id",
    "product_id",
    "product_name",
    "buyer_name",
    "email",
    "country",
    "amount",
    "net",
    "vat",
    "currency",
    "billing_type",
    "pay_sequence_no",
    "affiliate_name",
    "eticket_id",
    "api_mode",
    "signature",
    "delivery_count",
    "last_delivered",
    "business_key",
]

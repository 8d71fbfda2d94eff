"""Full-size signed on_payment IPNs for the ingestion benchmark, and the per-connection body
files the wrk script (bench/ipn.lua) posts.

A live on_payment carries about 175 keys (shared/digistore24.md §3.3: the 173-key capture),
many of them empty; webhooks.samples' payment has the 44 the app reads, so the rest of the
documented field list is added here, so that parsing, signing and storing cost what they cost
on a real delivery.
"""

from pathlib import Path

from webhooks import samples

ADDRESS_BLOCK = (
    "city", "company", "country", "id", "mobile_no", "phone_no", "state", "street", "street2",
    "tax_id", "zipcode",
)  # fmt: skip
# What the shipping (address_*) and billing (billing_*) blocks have beyond the common set.
ADDRESS_NAMES = ("salutation", "salutation_name", "street_name", "street_number", "title")


def _address(prefix: str, extra: tuple[str, ...]) -> dict[str, str]:
    values = {
        "city": "Köln", "country": "DE", "street": "Hauptstraße 1", "zipcode": "50667",
        "first_name": "Jörg", "last_name": "Müller", "salutation": "M", "salutation_name": "Herr",
        "street_name": "Hauptstraße", "street_number": "1", "country_name": "Deutschland",
    }  # fmt: skip
    return {f"{prefix}_{name}": values.get(name, "") for name in ADDRESS_BLOCK + extra}


# The documented fields webhooks.samples leaves out, with the values (often empty) a
# single-product credit-card payment carries.
REST_OF_ON_PAYMENT = {
    "event_label": "Zahlung",
    "ipn_config_product_ids": "all",
    "ipn_config_domain_id": "",
    "ipn_config_api_key_id": "",
    "language_name": "Deutsch",
    "order_date_time": "2026-11-29 12:00:00",
    "order_details_url": "https://www.digistore24.com/order/details/x",
    "order_billing_status": "completed",
    "order_is_paid": "Y",
    "orderform_id": "17",
    "orderform_referrer_url": "",
    "item_count": "1",
    "product_ids": "654321",
    "product_name_intern": "masterclass-2026",
    "product_language": "de",
    "product_delivery_type": "digital",
    "product_amount": "49.00",
    "product_netto_amount": "41.18",
    "product_vat_amount": "7.82",
    "product_shipping_amount": "0.00",
    "product_txn_amount": "49.00",
    "product_txn_netto_amount": "41.18",
    "product_txn_vat_amount": "7.82",
    "product_txn_shipping": "0.00",
    "variant_id": "",
    "variant_name": "",
    "placeholder_TITLE": "",
    "purchase_key": "a1b2c3d4e5",
    "upgrade_key": "",
    "upsell_no": "0",
    "upsell_path": "",
    "custom_key": "",
    "has_custom_forms": "N",
    "image_url": "https://www.digistore24.com/images/product/654321.png",
    "checkout_url": "https://www.digistore24.com/product/654321",
    "store_url": "",
    "add_url": "",
    "license_accessdata_keys": "",
    "refund_days": "14",
    "is_payment_planned": "N",
    "is_gdpr_country": "Y",
    "country": "DE",
    "voucher_code": "",
    "billing_descriptor": "DIGISTORE24*MASTERCLASS",
    "parent_transaction_id": "",
    "transaction_time": "12:00:00",
    "transaction_processed_at": "2026-11-29 12:00:01",
    "transaction_amount": "49.00",
    "transaction_vat_amount": "7.82",
    "transaction_currency": "EUR",
    "payment_id": "PAYID-10-T3999937",
    "amount_vendor": "38.95",
    "amount_affiliate": "0.00",
    "amount_main_affiliate": "0.00",
    "amount_partner": "0.00",
    "amount_provider": "3.95",
    "amount_fee": "3.95",
    "amount_payout": "38.95",
    "amount_credited": "38.95",
    "vat_amount": "7.82",
    "billing_stop_reason": "",
    "payplan_id": "88",
    "first_amount": "49.00",
    "first_vat_amount": "7.82",
    "other_amounts": "",
    "other_vat_amounts": "",
    "monthly_amount": "",
    "monthly_vat_amount": "",
    "first_billing_interval": "",
    "other_billing_intervals": "",
    "next_payment_at": "",
    "rebill_stop_noted_at": "",
    "is_cancelled_for": "",
    "rebilling_stop_url": "",
    "renew_url": "https://www.digistore24.com/renew/x",
    "switch_pay_interval_url": "",
    "request_refund_url": "https://www.digistore24.com/refund/x",
    "support_url": "https://www.digistore24.com/support/x",
    "buyer_email": "",
    "buyer_language": "de",
    "newsletter_choice": "none",
    "newsletter_choice_msg": "",
    "customer_affiliate_name": "",
    "customer_affiliate_promo_url": "",
    "customer_affiliate_url": "",
    "customer_to_affiliate_url": "https://www.digistore24.com/become-affiliate/x",
    **_address("address", (*ADDRESS_NAMES, "country_name", "email")),
    **_address("billing", (*ADDRESS_NAMES, "first_name", "last_name")),
    "affiliate_id": "",
    "affiliate_link": "",
    "referring_affiliate_name": "",
    "campaignkey": "",
    "trackingkey": "",
    "click_id": "",
    "promoclick_referrer_url": "",
    "utm_source": "newsletter",
    "utm_medium": "email",
    "utm_campaign": "black-friday",
    "utm_term": "",
    "utm_content": "",
    "salesteam_id": "",
    "salesteam_name": "",
    "coupon_id": "",
    "coupon_code": "",
    "license_id": "",
    "license_key": "",
    "license_key_type": "",
    "license_created": "",
    "upgrade_type": "",
    "delivery_date": "",
}


def on_payment(n: int) -> dict[str, str]:
    """A live on_payment of about 180 fields whose ids (order, transaction, buyer) derive from
    n, so that distinct n are distinct notifications."""
    order_id = f"B{n:09d}"
    return {
        **samples.on_payment(
            api_mode="live",
            order_id=order_id,
            order_item_id=str(n),
            transaction_id=str(n),
            buyer_id=str(n),
            email=f"buyer{n}@example.com",
            custom=f"user-{n}",
            invoice_url=f"https://www.digistore24.com/invoice/{order_id}",
            receipt_url=f"https://www.digistore24.com/receipt/{order_id}",
        ),
        **REST_OF_ON_PAYMENT,
    }


# Every tenth request repeats, byte for byte, the body its connection sent just before
# (Digistore24 re-sending one whose OK it did not see): the second of every ten, so that even a
# short run of a slow target sends some.
REDELIVERY_EVERY = 10


def write_connection_files(
    directory: Path, *, first_id: int, connections: int, per_connection: int, passphrase: str
) -> list[list[int]]:
    """Write one file of signed bodies per connection, one body a line, in the order the
    connection posts them; returns each line's transaction id per connection. Transaction ids
    run from first_id and are never repeated across connections, only within one by
    redelivery."""
    directory.mkdir(parents=True, exist_ok=True)
    next_id = first_id
    plan = []
    for connection in range(connections):
        ids = []
        lines = []
        for position in range(per_connection):
            if position % REDELIVERY_EVERY == 1:
                ids.append(ids[-1])
                lines.append(lines[-1])
                continue
            ids.append(next_id)
            lines.append(samples.signed_body(on_payment(next_id), passphrase))
            next_id += 1
        (directory / f"{connection + 1}.body").write_bytes(b"\n".join(lines) + b"\n")
        plan.append(ids)
    return plan

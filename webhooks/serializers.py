from django.utils import timezone
from django.utils.functional import cached_property
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.permissions import may_change
from webhooks.models import Event, Webhook


class WebhookSerializer(serializers.ModelSerializer):
    """A webhook, never with its passphrase, and with its receive URL only for those who may
    change it: for an unsigned webhook the URL is all it takes to post events. Of webhooks
    from Webhook.objects.with_activity()."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    receive_url = serializers.SerializerMethodField(
        help_text="Where Digistore24 posts this webhook's IPNs. Null unless the token is "
        "writable and its user may change webhooks (webhooks.change_webhook): for an "
        "unsigned webhook the URL is its only credential."
    )
    status = serializers.CharField(read_only=True)
    connection = serializers.UUIDField(
        source="connection.public_id", read_only=True, allow_null=True
    )
    event_count = serializers.IntegerField(
        read_only=True, help_text="Events stored; redeliveries are not counted."
    )
    last_received = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When the newest stored event was received (redeliveries do not count).",
    )

    class Meta:
        model = Webhook
        fields = [
            *["id", "name", "kind", "events", "receive_url", "active", "status", "connection"],
            *["event_count", "rejected_count", "last_received", "last_rejected", "created"],
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_receive_url(self, webhook) -> str | None:
        request = self.context.get("request")
        if request is None or not may_change(request, "webhooks.change_webhook"):
            return None
        return webhook.get_receive_url()


class WebhookRefSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Webhook
        fields = ["id", "name", "kind"]
        read_only_fields = fields


class EventSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    webhook = WebhookRefSerializer(read_only=True)
    payload = serializers.ListField(
        source="payload_without_signature",
        child=serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2),
        read_only=True,
        help_text="The parameters as received: [key, value] pairs, in order, except the "
        "signature (sha_sign), with which the event could be replayed to another webhook.",
    )
    amount = serializers.DecimalField(max_digits=18, decimal_places=4, read_only=True,
                                      allow_null=True)  # fmt: skip

    class Meta:
        model = Event
        fields = [
            *["id", "event", "scope", "webhook", "received", "last_delivered", "delivery_count"],
            *["signature", "business_key", "order_id", "transaction_id", "product_id"],
            *["product_name", "email", "amount", "currency", "billing_type", "pay_sequence_no"],
            *["affiliate_name", "eticket_id", "api_mode", "payload"],
        ]
        read_only_fields = fields

    @cached_property
    def time_zone(self):
        """The current time zone, looked up once for all the events shown (a page's 500
        lookups of the request's zone were a sixth of its serialisation)."""
        return timezone.get_current_timezone()

    def to_representation(self, event):
        """What DRF's field-by-field rendering of the fields above gives (the schema is still
        read from them; tests/api/test_event_representation.py compares the two), built
        directly: DRF's machinery (an attribute lookup and a call per field, a ListField and
        two CharFields per payload pair, the current time zone looked up per date-time) was
        most of the time of a page of 500 events. The payload's pairs are the stored lists of
        two strings (ipn_store writes them from the parsed form), passed on as they are."""
        zone = self.time_zone
        webhook = event.webhook
        amount = event.amount
        return {
            "id": str(event.public_id),
            "event": event.event,
            "scope": event.scope,
            "webhook": {"id": str(webhook.public_id), "name": webhook.name, "kind": webhook.kind},
            "received": _iso_8601(event.received, zone),
            "last_delivered": _iso_8601(event.last_delivered, zone),
            "delivery_count": event.delivery_count,
            "signature": event.signature,
            "business_key": event.business_key,
            "order_id": event.order_id,
            "transaction_id": event.transaction_id,
            "product_id": event.product_id,
            "product_name": event.product_name,
            "email": event.email,
            "amount": None if amount is None else self.fields["amount"].to_representation(amount),
            "currency": event.currency,
            "billing_type": event.billing_type,
            "pay_sequence_no": event.pay_sequence_no,
            "affiliate_name": event.affiliate_name,
            "eticket_id": event.eticket_id,
            "api_mode": event.api_mode,
            "payload": event.payload_without_signature,
        }


def _iso_8601(moment, zone) -> str:
    """A stored (aware) date-time as DRF's DateTimeField shows it: ISO 8601 in the current
    time zone, with "Z" for UTC."""
    text = moment.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class FollowPageSerializer(serializers.Serializer):
    results = EventSerializer(many=True)
    cursor = serializers.CharField(help_text="Pass it back as ?cursor= to get what follows.")
    more = serializers.BooleanField(help_text="More events are ready: ask again at once.")

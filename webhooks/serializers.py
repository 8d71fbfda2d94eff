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


class FollowPageSerializer(serializers.Serializer):
    results = EventSerializer(many=True)
    cursor = serializers.CharField(help_text="Pass it back as ?cursor= to get what follows.")
    more = serializers.BooleanField(help_text="More events are ready: ask again at once.")

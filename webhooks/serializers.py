from rest_framework import serializers

from webhooks.models import Event, Webhook


class WebhookSerializer(serializers.ModelSerializer):
    """A webhook, never with its passphrase. Of webhooks from Webhook.objects.with_activity()."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    receive_url = serializers.CharField(source="get_receive_url", read_only=True)
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
        child=serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2),
        read_only=True,
        help_text="The parameters exactly as received: [key, value] pairs, in order.",
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

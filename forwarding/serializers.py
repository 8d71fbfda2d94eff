from copy import copy

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from forwarding.models import Delivery, Destination
from webhooks import ipn
from webhooks.models import Webhook


class DestinationSerializer(serializers.ModelSerializer):
    """A destination, never with its secret (only the answer to its creation carries it)."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    webhook = serializers.SlugRelatedField(
        slug_field="public_id",
        queryset=Webhook.objects.all(),
        allow_null=True,
        required=False,
        help_text="Only events received by this webhook (its id); null: every webhook's.",
    )
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=ipn.event_choices()),
        required=False,
        help_text="Digistore24 events to forward; empty: all of them.",
    )
    status = serializers.ChoiceField(
        choices=Destination.Status.choices,
        read_only=True,
        help_text="healthy; failing (deliveries fail, since failing_since); disabled (active "
        "false: by a person, or after failing for a day, see disabled_reason).",
    )

    class Meta:
        model = Destination
        fields = [
            *["id", "name", "url", "webhook", "event_types", "mode", "active", "status"],
            *["failing_since", "disabled_reason", "disabled_at", "created", "updated"],
        ]
        read_only_fields = ["failing_since", "disabled_reason", "disabled_at", "created"]

    def validate(self, attrs):
        """The model's own rules (Destination.clean: the URL rule of forwarding.sender)."""
        candidate = copy(self.instance) if self.instance is not None else Destination()
        for name, value in attrs.items():
            setattr(candidate, name, value)
        try:
            candidate.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs


class DestinationCreatedSerializer(DestinationSerializer):
    """The answer to creating a destination: the only time its secret is in an answer."""

    secret = serializers.CharField(
        read_only=True,
        help_text="The whsec_ signing secret (Standard Webhooks). Shown only now: keep it.",
    )

    class Meta(DestinationSerializer.Meta):
        fields = [*DestinationSerializer.Meta.fields, "secret"]


class DeliverySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    event = serializers.UUIDField(source="event.public_id", read_only=True)
    destination = serializers.UUIDField(source="destination.public_id", read_only=True)

    class Meta:
        model = Delivery
        fields = [
            *["id", "message_id", "event", "destination", "status", "attempts"],
            *["next_attempt_at", "last_status_code", "last_error", "created", "finished"],
        ]
        read_only_fields = fields

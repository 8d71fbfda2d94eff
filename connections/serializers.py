from rest_framework import serializers

from connections.models import Connection


class ConnectionSerializer(serializers.ModelSerializer):
    """A connection with what verification learned; the key only redacted (`key`)."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    key = serializers.CharField(source="key_hint", read_only=True)

    class Meta:
        model = Connection
        fields = [
            *["id", "name", "key", "language", "status", "last_verified", "last_error"],
            *["ds24_user_id", "ds24_user_name", "granted_roles", "access", "created"],
        ]
        read_only_fields = fields

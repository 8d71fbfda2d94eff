"""Serializer fields every API view shares."""

from rest_framework import serializers

from ds24site import numbers


class IntegerField(serializers.IntegerField):
    """DRF's, in ASCII digits only (ds24site.numbers): DRF's own takes any script's digits
    (Arabic-Indic, fullwidth) and '5.0'."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = numbers.parse_int(data)
            except ValueError:
                self.fail("invalid")
        return super().to_internal_value(data)

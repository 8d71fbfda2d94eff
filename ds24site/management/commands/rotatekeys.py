from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError
from django.db import transaction

from ds24site.commands import OneLineErrorCommand
from ds24site.crypto import DecryptionError, EncryptedTextField


class Command(OneLineErrorCommand):
    help = (
        "Re-encrypt every stored secret under the first (newest) key of FIELD_ENCRYPTION_KEY. "
        "Afterwards the older keys can be removed."
    )

    def handle(self, **options):
        total = 0
        try:
            with transaction.atomic():
                for model in apps.get_models():
                    fields = [f for f in model._meta.fields if isinstance(f, EncryptedTextField)]
                    for field in fields:
                        total += self.rotate(model, field.name)
        except (DecryptionError, ImproperlyConfigured) as exc:
            raise CommandError(f"nothing changed: {exc}") from None
        self.stdout.write(f"Re-encrypted {total} secret(s) under the newest key.")

    def rotate(self, model, name) -> int:
        count = 0
        # Revealing decrypts with any configured key; writing encrypts with the newest.
        for pk, sealed in model._base_manager.exclude(**{name: ""}).values_list("pk", name):
            model._base_manager.filter(pk=pk).update(**{name: sealed.reveal()})
            count += 1
        return count

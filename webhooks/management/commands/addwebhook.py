import json

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from ds24site.commands import OneLineErrorCommand
from webhooks.models import Webhook
from webhooks.services import webhook_create


class Command(OneLineErrorCommand):
    help = (
        "Create a webhook and print it as one line of JSON (name, kind, events, url, passphrase) "
        "for scripts."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--kind", required=True, choices=Webhook.Kind.values)
        secret = parser.add_mutually_exclusive_group()
        secret.add_argument("--passphrase", help="the IPN passphrase set in Digistore24")
        secret.add_argument(
            "--unsigned", action="store_true", help="accept IPNs without signature (no passphrase)"
        )

    def handle(self, *, name, kind, passphrase, unsigned, **options):
        if passphrase == "":
            raise CommandError("--passphrase must not be empty; use --unsigned for none")
        try:
            webhook = webhook_create(name=name, kind=kind, passphrase=passphrase, unsigned=unsigned)
        except ValidationError as exc:
            problems = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
            )
            raise CommandError(problems) from None
        summary = {
            "name": webhook.name,
            "kind": webhook.kind,
            "events": webhook.events,
            "url": webhook.get_receive_url(),
            "passphrase": webhook.passphrase,
            "accept_unsigned": webhook.accept_unsigned,
            "active": webhook.active,
        }
        self.stdout.write(json.dumps(summary))

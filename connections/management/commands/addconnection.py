import json

from django import forms
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db import IntegrityError

from connections.admin import clean_api_key
from connections.models import Connection
from connections.services import connection_verify
from ds24site.commands import OneLineErrorCommand


class Command(OneLineErrorCommand):
    help = (
        "Create a connection from a Digistore24 API key, verify it, and print it as one line of "
        "JSON (id, name, status, message) for scripts. The key is never printed."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--key", required=True, help="the Digistore24 API key")
        parser.add_argument(
            "--language",
            choices=Connection.Language.values,
            default=Connection.Language.ENGLISH,
            help="language of Digistore24's API messages",
        )

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        report = parser.error

        def error(message):
            # argparse repeats stray arguments, and a key given without --key is one.
            if message.startswith("unrecognized arguments"):
                message = (
                    "unexpected arguments (not repeated, one may be a key); give the key with --key"
                )
            report(message)

        parser.error = error
        return parser

    def handle(self, *, name, key, language, **options):
        key = key.strip()
        if not key:
            raise CommandError("--key must not be empty")
        try:
            clean_api_key(key)
        except forms.ValidationError as exc:
            raise CommandError(f"--key: {' '.join(exc.messages)}") from None
        connection = Connection(name=name, language=language)
        connection.set_key(key)
        try:
            connection.full_clean()
            connection.save()
        except ValidationError as exc:
            problems = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
            )
            raise CommandError(problems) from None
        except IntegrityError:  # made by someone else since full_clean looked
            raise CommandError("name: Connection with this Name already exists.") from None
        outcome = connection_verify(connection=connection)
        summary = {
            "id": str(connection.public_id),
            "name": connection.name,
            "status": connection.status,
            "message": outcome.message,
        }
        self.stdout.write(json.dumps(summary))

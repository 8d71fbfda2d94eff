import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


class OneLineErrorCommand(BaseCommand):
    """A management command whose every usage error is one line on stderr and a non-zero exit.

    argparse would print the usage block and exit 2; scripts that call our commands want the
    reason alone, the way CommandError reports it.
    """

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.called_from_command_line = False  # argparse errors raise CommandError instead
        return parser

    def run_from_argv(self, argv):
        try:
            super().run_from_argv(argv)
        except CommandError as exc:  # raised while parsing, outside BaseCommand's own handler
            self.stderr.write(f"CommandError: {exc}")
            sys.exit(exc.returncode)


def delete_in_batches(queryset, batch_size: int) -> int:
    """Delete the rows of `queryset` a batch at a time; returns how many went. For retention
    commands on log tables that writers keep appending to."""
    deleted = 0
    while True:
        batch = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
        if not batch:
            return deleted
        # One short transaction per batch: writers (the receiver) wait milliseconds at most.
        with transaction.atomic():
            deleted += queryset.model.objects.filter(pk__in=batch).delete()[0]

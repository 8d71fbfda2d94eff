from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from api.models import ApiToken
from ds24site.commands import OneLineErrorCommand


class Command(OneLineErrorCommand):
    help = (
        "Create an API token for USERNAME and print it once, alone on the last line. Only its "
        "digest is stored; revoke it in the admin (API tokens)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="what will use it")
        parser.add_argument("--writable", action="store_true", help="allow more than reading")

    def handle(self, *, username, name, writable, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        if not user.is_active:
            raise CommandError(f"user {username!r} is inactive")
        if not name.strip():
            raise CommandError("--name must not be empty")
        token = ApiToken(user=user, name=name.strip()[:100], writable=writable)
        secret = token.issue()
        token.save()
        access = "read and write" if writable else "read-only"
        self.stdout.write(f"API token {token} for {username} ({access}); it is shown only now:")
        self.stdout.write(secret)

import os
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import ValidationError, validate_password
from django.core.management.base import CommandError

from ds24site.commands import OneLineErrorCommand


class Command(OneLineErrorCommand):
    help = (
        "Make sure a superuser exists. The first run creates 'admin' with the password in "
        "DJANGO_SUPERUSER_PASSWORD, or a random one printed once. Safe to re-run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *, username, **options):
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("An admin account exists; leaving it as it is.")
            return
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD", "")
        generated = not password
        if generated:
            password = secrets.token_urlsafe(18)
        else:
            try:
                validate_password(password, User(username=username))
            except ValidationError as exc:
                raise CommandError("DJANGO_SUPERUSER_PASSWORD: " + " ".join(exc.messages)) from None
        User.objects.create_superuser(username=username, email="", password=password)
        if generated:
            self.stdout.write(
                f"Created admin account '{username}' with password: {password}\n"
                "This is shown once; change it under Admin > Users."
            )
        else:
            self.stdout.write(f"Created admin account '{username}' from DJANGO_SUPERUSER_PASSWORD.")

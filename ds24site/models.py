from django.db import models


class HealthProbe(models.Model):
    """One row that /healthz and `manage.py check` update to prove that the database takes a
    write (ds24site.health): a read proves too little, since a locked SQLite file, a read-only
    replica or a full disk all still answer SELECT."""

    written = models.DateTimeField()

    def __str__(self):
        return f"written {self.written:%Y-%m-%d %H:%M:%S}"

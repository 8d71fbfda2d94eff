"""Webhooks' background tasks (django-tasks, database backend; run by `manage.py runworker`)."""

from django_tasks import task

from webhooks import services
from webhooks.models import Event


@task()
def notify(event_id: int) -> int:
    """Send `ipn_received` for a stored event; returns how many receivers failed. An event
    pruned in the meantime has nobody left to tell."""
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        return 0
    return len(services.event_notify(event=event))

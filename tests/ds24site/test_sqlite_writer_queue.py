"""ds24site.sqlite: a process's writers queue on one lock, held from BEGIN to COMMIT/ROLLBACK."""

import threading

import pytest
from django.db import OperationalError, connection, connections, transaction

from ds24site.sqlite.base import _writer_lock

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite backend")


def lock():
    return _writer_lock(str(connection.settings_dict["NAME"]))


@pytest.mark.django_db(transaction=True)
def test_the_lock_is_held_for_the_transaction_and_released_by_commit_or_rollback():
    with transaction.atomic():
        assert lock().locked()
    assert not lock().locked()
    with pytest.raises(RuntimeError), transaction.atomic():
        raise RuntimeError("rolled back")
    assert not lock().locked()


@pytest.mark.django_db(transaction=True)
def test_another_thread_waits_its_turn_then_gives_up_at_the_busy_timeout():
    outcome = []

    def other_writer(timeout):
        mine = connections["default"]  # this thread's own connection, with its own settings
        mine.settings_dict = {
            **mine.settings_dict,
            "OPTIONS": {**mine.settings_dict["OPTIONS"], "timeout": timeout},
        }
        try:
            with transaction.atomic():
                outcome.append("wrote")
        except OperationalError as exc:
            outcome.append(str(exc))
        finally:
            connections.close_all()

    with transaction.atomic():
        # In line behind this transaction: it neither writes nor reaches SQLite meanwhile.
        waiting = threading.Thread(target=other_writer, args=(5,))
        waiting.start()
        waiting.join(0.3)
        assert waiting.is_alive() and outcome == []
        impatient = threading.Thread(target=other_writer, args=(0.1,))
        impatient.start()
        impatient.join()
        assert outcome == ["database is locked (this process's other writers)"]
    waiting.join(5)
    assert outcome[-1] == "wrote"

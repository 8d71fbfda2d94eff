"""ds24site.sqlite: a process's writers queue on one lock, held from BEGIN to COMMIT/ROLLBACK;
a single writing statement (writer_turn) then also waits for the other processes' on a file
lock."""

import fcntl
import os
import threading

import pytest
from django.db import OperationalError, connection, connections, transaction

from ds24site.db import writer_turn
from ds24site.sqlite.base import writer_line

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite backend")


def lock():
    return writer_line(str(connection.settings_dict["NAME"])).thread_lock


def file_locked_elsewhere() -> bool:
    """Whether another open file description (another process, as far as flock can tell)
    could not take the writers' file lock now."""
    descriptor = os.open(f"{connection.settings_dict['NAME']}-writers", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)  # closing drops the lock if it was taken
    return False


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


@pytest.mark.django_db(transaction=True)
def test_a_single_statement_holds_the_file_lock_a_transaction_does_not():
    connection.ensure_connection()
    with writer_turn(connection):
        assert lock().locked() and file_locked_elsewhere()
    assert not lock().locked() and not file_locked_elsewhere()
    with transaction.atomic():
        assert lock().locked() and not file_locked_elsewhere()


@pytest.mark.django_db(transaction=True)
def test_a_single_statement_waits_for_another_process_holding_the_file():
    other_process = os.open(f"{connection.settings_dict['NAME']}-writers", os.O_RDWR | os.O_CREAT)
    fcntl.flock(other_process, fcntl.LOCK_EX)
    turns = []

    def statement():
        try:
            with writer_turn(connections["default"]):
                turns.append("mine")
        finally:
            connections.close_all()

    try:
        waiting = threading.Thread(target=statement)
        waiting.start()
        waiting.join(0.3)
        assert waiting.is_alive() and turns == []
    finally:
        fcntl.flock(other_process, fcntl.LOCK_UN)
        os.close(other_process)
    waiting.join(5)
    assert turns == ["mine"]

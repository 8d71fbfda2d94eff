"""Following the event log: a client keeps a cursor and asks for what came after it, oldest
first, and must never miss an event nor see one twice.

Ordering by id alone is not enough: ids are handed out at INSERT, so on PostgreSQL a delivery
can take id 10, commit after the one with id 11 has been read, and be skipped by a reader whose
cursor is already at 11. Events are therefore read in (txid, id) order, where txid is the
inserting transaction's id, and only up to the oldest transaction still in flight
(pg_snapshot_xmin): anything older than that has committed or aborted, so nothing can appear
behind the cursor later. A delivery in flight holds back the events after it, for as long as it
takes to commit (milliseconds).

On SQLite, writers are serialised (BEGIN IMMEDIATE holds the write lock from the INSERT to the
COMMIT), so ids are already in commit order; txid is 0 there and the order is the id's.

Operating notes for PostgreSQL:
- The horizon is the server's, not the database's: any transaction left open on the server
  (an idle session inside BEGIN, a long migration) holds every follower back until it ends.
  Nothing is lost, but followers stall; set idle_in_transaction_session_timeout.
- Transaction ids belong to a server. After a dump and restore into a new server (not
  pg_upgrade) they start again, lower: cursors from before are refused while they lie in the
  new server's future, and followers should start again (start=latest) after such a move.
"""

import base64
import binascii
from dataclasses import dataclass

from django.db import connection
from django.db.models.expressions import RawSQL

from ds24site import numbers

HORIZON_SQL = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
MAX_ID = 2**63 - 1


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class Position:
    """Everything at or before (txid, id) has been read."""

    txid: int
    id: int

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"v1.{self.txid}.{self.id}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "Position":
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            version, txid, row_id = raw.split(".")
            if version != "v1":
                raise ValueError(version)
            return cls(numbers.parse_int(txid), numbers.parse_int(row_id, minimum=0))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise InvalidCursor("not a cursor this API gave out") from None


START = Position(-1, 0)


def _settled(queryset):
    if connection.vendor == "postgresql":
        return queryset.filter(txid__lt=RawSQL(HORIZON_SQL, []))  # noqa: S611  (a constant)
    return queryset


def events_after(queryset, position: Position, limit: int) -> list:
    """Up to `limit` events after `position`, in the order followers read them.

    Two range seeks on the (txid, id) index rather than one row comparison, which neither
    database can seek to: the rest of the cursor's transaction, then the transactions after it.
    """
    settled = _settled(queryset).order_by("txid", "id")
    rows = []
    if position != START:  # no transaction has id -1 (and the query planner cannot know it)
        rows = list(settled.filter(txid=position.txid, id__gt=position.id)[:limit])
    if len(rows) < limit:
        rows += settled.filter(txid__gt=position.txid)[: limit - len(rows)]
    return rows


def check_position(position: Position) -> None:
    """Refuse a cursor from another server: one past every transaction id this one gave out."""
    if connection.vendor == "postgresql" and position.txid >= 0:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
            if position.txid >= cursor.fetchone()[0]:
                raise InvalidCursor(
                    "cursor from another database server (restored or moved?); "
                    "start again with start=latest"
                )


def latest_position(queryset) -> Position:
    """A position at the current end: following from it returns only events yet to come."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {HORIZON_SQL}")
            horizon = cursor.fetchone()[0]
        return Position(horizon - 1, MAX_ID)
    last = queryset.order_by("-id").values_list("id", flat=True).first()
    return Position(0, last or 0)


def position_of(event) -> Position:
    return Position(event.txid, event.id)

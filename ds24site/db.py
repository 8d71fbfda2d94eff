import contextlib
import sys

import orjson
from django.db.models import BigIntegerField, CharField, Func, JSONField, Lookup
from django.db.models.lookups import GreaterThanOrEqual, LessThan, StartsWith
from django.db.models.sql.where import AND, WhereNode


class CurrentTransactionId(Func):
    """The id of the inserting transaction (PostgreSQL's pg_current_xact_id()), as a column
    default. It orders rows by the transaction that wrote them, which is what lets a reader
    wait for transactions still in flight (see webhooks/follow.py). On SQLite, writers are
    serialised and row ids are already in commit order, so it is 0 there.
    """

    output_field = BigIntegerField()

    def as_sql(self, compiler, connection, **extra):
        return "0", []

    def as_postgresql(self, compiler, connection, **extra):
        return "(pg_current_xact_id()::text::bigint)", []


class FastJSONField(JSONField):
    """A JSONField whose stored text is parsed by orjson, which gives the same values as the
    standard library's parser for all the JSON that it takes, in less than half the time: the
    500 payloads of an API page took 2.2 ms with json.loads and 1.0 ms with orjson (timed
    in-process over bench/seed.py's log, whose payloads are a tenth as long as Digistore24's
    full ones). Text orjson refuses (NaN, lone surrogates) is left to JSONField, which reads
    it as before. Not for numbers past 64 bits, which orjson reads as floats without a word:
    Event.payload holds strings only. Written as JSONField writes it; to migrations it is a
    JSONField."""

    def from_db_value(self, value, expression, connection):
        if isinstance(value, str):
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                pass
        return super().from_db_value(value, expression, connection)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.JSONField", args, kwargs


def writer_turn(connection):
    """Where the backend queues a process's writers (ds24site/sqlite/base.py), a context that
    waits for this thread's turn around a single writing statement in autocommit; elsewhere
    (PostgreSQL locks rows, not the database) nothing."""
    turn = getattr(connection, "writer_turn", None)
    return turn() if turn is not None else contextlib.nullcontext()


def successor(text: str) -> str | None:
    """The least string above every string that starts with `text`, in code point order; None
    when there is none (empty, or only U+10FFFF)."""
    text = text.rstrip(chr(sys.maxunicode))
    if not text:
        return None
    following = ord(text[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:  # surrogates are not characters: skip them
        following = 0xE000
    return text[:-1] + chr(following)


@CharField.register_lookup
class Prefix(Lookup):
    """`column__prefix=value`: the column starts with value, case and accents as given, in the
    form an index serves on each database.

    SQLite: a range, `>= 'abc' AND < 'abd'`, which the column's plain index serves; SQLite
    compares text byte by byte (BINARY), and UTF-8's byte order is code point order, so the
    range is exactly the prefix. (SQLite's LIKE ignores ASCII case and uses no index here.)

    PostgreSQL: `LIKE 'abc%'`, which a B-tree serves only with a pattern operator class, so
    the column's index needs `opclasses=["varchar_pattern_ops"]` (which serves `=` too). The
    range is no substitute there: under a linguistic collation such as en_US the range both
    misses rows ('12345' < '1234:' is false: punctuation is ignored) and adds some ('abcz'
    falls between 'ABC' and 'ABD').
    """

    lookup_name = "prefix"

    def as_sql(self, compiler, connection):
        lower = GreaterThanOrEqual(self.lhs, self.rhs)
        upper = successor(self.rhs)
        if upper is None:
            return compiler.compile(lower)
        return compiler.compile(WhereNode([lower, LessThan(self.lhs, upper)], connector=AND))

    def as_postgresql(self, compiler, connection):
        return compiler.compile(StartsWith(self.lhs, self.rhs))

"""Statements the IPN receiver runs on every delivery, compiled once per process.

Django compiles a queryset to SQL each time it runs; for the receiver's few fixed statements
that compiling costs more than the database does (py-spy over `make bench`'s ingestion:
the webhook lookup, the destinations lookup and the event's INSERT spent most of their time in
the SQL compiler). Here each statement's SQL is produced from Django's own compiler or model
metadata, once per database vendor, and then only executed with fresh parameters, so quoting,
column lists and value adaptation stay Django's.

They are executed on the driver's cursor, in its own parameter style, unless something watches
statements (a debug log, assertNumQueries, an execute wrapper): Django's cursor wrapper and
SQLite's per-call placeholder rewrite were a sixth of the receiver's CPU time per IPN (py-spy
--gil). Errors are Django's all the same (wrap_database_errors).
"""

from collections.abc import Callable

from django.db import connections
from django.db.backends.sqlite3.base import SQLiteCursorWrapper
from django.db.models import NOT_PROVIDED, CharField, Model, QuerySet


def _native(sql: str, connection) -> str:
    """`sql` (Django's %s placeholders) in the driver's parameter style."""
    if connection.vendor == "sqlite":
        return SQLiteCursorWrapper.convert_query(None, sql)
    return sql  # psycopg takes %s


def _execute(connection, sql: str, native_sql: str, params, fetch: Callable):
    """Run one statement and return `fetch(cursor)`: through Django's cursor where statements
    are watched, else on the driver's cursor (the module's docstring says why)."""
    if connection.queries_logged or connection.execute_wrappers:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return fetch(cursor)
    # No health check (CONN_HEALTH_CHECKS' round trip before a request's first statement):
    # these run for every IPN, and a connection that died fails here instead, as a
    # DatabaseError that the receiver answers 503 (Digistore24 retries) and after which the
    # next request replaces the connection (close_if_unusable_or_obsolete).
    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        cursor = _driver_cursor(connection)
        try:
            cursor.execute(native_sql, params)
            return fetch(cursor)
        finally:
            cursor.close()


def _driver_cursor(connection):
    """The driver's cursor for these statements. On PostgreSQL one that binds parameters on
    the server (psycopg.Cursor; Django's is psycopg's ClientCursor, which writes them into the
    SQL): an IPN's body travels as a parameter instead of being escaped into the statement,
    and psycopg prepares a statement once it has run a few times on a connection
    (prepare_threshold), so PostgreSQL no longer parses and plans it for every IPN. About
    10 % more IPNs a second under bench/ingest's load (throwaway harness, alternated runs:
    957-988 against 884-890). The statements are fixed and name their columns, so a plan
    kept across a migration is re-planned by PostgreSQL."""
    if connection.vendor == "postgresql":
        import psycopg  # (only with PostgreSQL)

        return psycopg.Cursor(connection.connection)
    return connection.connection.cursor()


def _fetchall(cursor):
    return cursor.fetchall()


def _fetchone(cursor):
    return cursor.fetchone()


def _nothing(cursor):
    return None


def _rowcount(cursor):
    return cursor.rowcount


class PreparedQuery:
    """`build(*params)`'s SQL, compiled on first use, then only executed: model instances as
    the queryset would give them (the same columns, the same converters, Model.from_db), in a
    list.

    The queryset must select one model's own fields, and its shape must not depend on the
    parameter values; the first compilation checks that the parameters come out of the SQL
    as they went in, in order.
    """

    def __init__(self, build: Callable[..., QuerySet]):
        self.build = build
        self._compiled: dict[str, tuple] = {}

    def _compile(self, params, using: str) -> tuple:
        queryset = self.build(*params)
        compiler = queryset.query.get_compiler(using)
        sql, compiled_params = compiler.as_sql()
        if list(compiled_params) != list(params):
            raise ValueError(f"{sql!r} does not take exactly {params!r} as its parameters")
        expressions = [expression for expression, _sql, _alias in compiler.select]
        attnames = [expression.target.attname for expression in expressions]
        converters = compiler.get_converters(expressions)
        return queryset.model, sql, _native(sql, compiler.connection), attnames, converters

    def __call__(self, *params, using: str = "default") -> list[Model]:
        connection = connections[using]
        if connection.vendor not in self._compiled:
            self._compiled[connection.vendor] = self._compile(params, using)
        model, sql, native_sql, attnames, converters = self._compiled[connection.vendor]
        rows = _execute(connection, sql, native_sql, params, _fetchall)
        instances = []
        for row in rows:
            if converters:
                row = list(row)
                for position, (functions, expression) in converters.items():
                    for function in functions:
                        row[position] = function(row[position], expression, connection)
            instances.append(model.from_db(using, attnames, row))
        return instances


def _stored_fields(model: type[Model]) -> list:
    """The fields an INSERT gives values for: all but the primary key and the fields whose
    value the database supplies (db_default)."""
    return [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and field.db_default is NOT_PROVIDED
    ]


def _params(fields, values: dict, connection) -> list:
    """`values` (by attname) adapted by each field as a save would; a field left out gets its
    default."""
    return [
        field.get_db_prep_save(
            values[field.attname] if field.attname in values else field.get_default(),
            connection,
        )
        for field in fields
    ]


class Insert:
    """A plain INSERT of one row of `model`, compiled once per database vendor, without a model
    instance, signals or RETURNING: for rows nobody reads back at once (the receiver's
    InboundIPN). Values are given by attname and adapted by each field (get_db_prep_save), as
    a save would; a field left out gets its default, and one with a db_default the
    database's."""

    fetch = staticmethod(_nothing)

    def __init__(self, model: type[Model]):
        self.model = model
        self._compiled: dict[str, tuple[str, str, list]] = {}

    def _sql(self, connection, columns: str, fields) -> str:
        # Names from the model, quoted by the backend; values are parameters.
        table = connection.ops.quote_name(self.model._meta.db_table)
        placeholders = ", ".join(["%s"] * len(fields))
        return f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608

    def __call__(self, values: dict, using: str = "default"):
        return self._run(values, [], using)

    def _run(self, values: dict, more_params: list, using: str):
        """Execute with the values' parameters, then `more_params` (a subclass's SQL may take
        more after them)."""
        connection = connections[using]
        if connection.vendor not in self._compiled:
            fields = _stored_fields(self.model)
            columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
            sql = self._sql(connection, columns, fields)
            self._compiled[connection.vendor] = (sql, _native(sql, connection), fields)
        sql, native_sql, fields = self._compiled[connection.vendor]
        params = _params(fields, values, connection) + more_params
        return _execute(connection, sql, native_sql, params, self.fetch)


class InsertIfRow(Insert):
    """An INSERT of one row of `model` that happens only while the row of `row_of` that
    `matching` names still has those values in the `match` columns, checked in the same
    statement (INSERT … SELECT … FROM row_of WHERE …); returns how many rows went in, 1 or 0.
    `matching` holds the values as the database holds them (a secret's ciphertext, say): they
    are not adapted again. Values as for Insert."""

    fetch = staticmethod(_rowcount)

    def __init__(self, model: type[Model], *, row_of: type[Model], match):
        super().__init__(model)
        self.row_of, self.match = row_of, tuple(match)

    def _sql(self, connection, columns: str, fields) -> str:
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        # Selected, a parameter has no column to take its type from: PostgreSQL would read a
        # text literal as text, which it does not assign to inet or bytea columns unasked.
        # Text is cast without a length: a cast to varchar(n) would cut a longer value,
        # where the column's own assignment refuses it.
        if connection.vendor == "postgresql":
            types = [
                "varchar" if isinstance(field, CharField) else field.cast_db_type(connection)
                for field in fields
            ]
            placeholders = [f"%s::{db_type}" for db_type in types]
        else:
            placeholders = ["%s"] * len(fields)
        row_of = self.row_of._meta
        conditions = [f"{quote(row_of.get_field(name).column)} = %s" for name in self.match]
        return (
            f"INSERT INTO {table} ({columns}) SELECT {', '.join(placeholders)} "  # noqa: S608
            f"FROM {quote(row_of.db_table)} WHERE {' AND '.join(conditions)}"
        )

    def __call__(self, values: dict, matching: dict, using: str = "default") -> int:
        return self._run(values, [matching[name] for name in self.match], using)


class CountingInsert(Insert):
    """One statement that inserts a row, or, when the row's `unique` columns are taken,
    counts the attempt on the row that has them: INSERT … ON CONFLICT (unique) DO UPDATE SET
    `counter` = `counter` + 1 and each of the `latest` columns to the later of its value and
    the new one, RETURNING the `returning` columns of the row inserted or counted. Exactly
    once, in one statement, whatever runs concurrently, without a failed INSERT and a second
    statement. Values as for Insert.
    """

    fetch = staticmethod(_fetchone)

    def __init__(self, model: type[Model], *, unique, counter, latest, returning):
        super().__init__(model)
        self.unique, self.counter = tuple(unique), counter
        self.latest, self.returning = tuple(latest), tuple(returning)

    def _sql(self, connection, columns: str, fields) -> str:
        meta = self.model._meta
        table = connection.ops.quote_name(meta.db_table)
        later = "MAX" if connection.vendor == "sqlite" else "GREATEST"

        def column(name):
            return connection.ops.quote_name(meta.get_field(name).column)

        counter = column(self.counter)
        updates = [f"{counter} = {table}.{counter} + 1"]
        updates += [
            f"{column(name)} = {later}({table}.{column(name)}, excluded.{column(name)})"
            for name in self.latest
        ]
        return (
            f"{super()._sql(connection, columns, fields)} "
            f"ON CONFLICT ({', '.join(map(column, self.unique))}) "
            f"DO UPDATE SET {', '.join(updates)} "
            f"RETURNING {', '.join(map(column, self.returning))}"
        )

"""Statements the IPN receiver runs on every delivery, compiled once per process.

Django compiles a queryset to SQL each time it runs; for the receiver's few fixed statements
that compiling costs more than the database does (py-spy over `make bench`'s ingestion:
the webhook lookup, the destinations lookup and the event's INSERT spent most of their time in
the SQL compiler). Here each statement's SQL is produced from Django's own compiler or model
metadata, once per database vendor, and then only executed with fresh parameters, so quoting,
column lists and value adaptation stay Django's.
"""

from collections.abc import Callable

from django.db import connections
from django.db.models import NOT_PROVIDED, Model, QuerySet


class PreparedQuery:
    """`build(*params)`'s SQL, compiled on first use, then run as `Manager.raw(sql, params)`:
    model instances as the queryset would give them (the same columns and converters).

    The queryset's shape must not depend on the parameter values; the first compilation
    checks that the parameters come out of the SQL as they went in, in order.
    """

    def __init__(self, build: Callable[..., QuerySet]):
        self.build = build
        self._compiled: dict[str, tuple[type[Model], str]] = {}

    def __call__(self, *params, using: str = "default"):
        vendor = connections[using].vendor
        if vendor not in self._compiled:
            queryset = self.build(*params)
            sql, compiled_params = queryset.query.sql_with_params()
            if list(compiled_params) != list(params):
                raise ValueError(f"{sql!r} does not take exactly {params!r} as its parameters")
            self._compiled[vendor] = (queryset.model, sql)
        model, sql = self._compiled[vendor]
        return model._default_manager.raw(sql, params, using=using)


class CountingInsert:
    """One statement that inserts a row, or, when the row's `unique` columns are taken,
    counts the attempt on the row that has them: INSERT … ON CONFLICT (unique) DO UPDATE SET
    `counter` = `counter` + 1 and the `refreshed` columns to the new values, RETURNING the
    `returning` columns of the row inserted or counted. The receiver stores every IPN with it:
    exactly once, in one statement (on SQLite one lock turn, on PostgreSQL one round trip),
    without a failed INSERT and a second statement for a redelivery.

    The SQL comes from the model's fields, once per database vendor. Values are given by
    attname and adapted by each field (get_db_prep_save), as a save would; a field left out
    gets its default, and one with a db_default the database's. No signals are sent and no
    model instance is made: callers that need those use the ORM.
    """

    def __init__(self, model: type[Model], *, unique, counter, refreshed, returning):
        self.model = model
        self.unique, self.counter = tuple(unique), counter
        self.refreshed, self.returning = tuple(refreshed), tuple(returning)
        self._compiled: dict[str, tuple[str, list]] = {}

    def _compile(self, connection) -> tuple[str, list]:
        quote = connection.ops.quote_name
        meta = self.model._meta
        table = quote(meta.db_table)
        fields = [
            field
            for field in meta.concrete_fields
            if not field.primary_key and field.db_default is NOT_PROVIDED
        ]

        def column(name):
            return quote(meta.get_field(name).column)

        counter = column(self.counter)
        updates = [f"{counter} = {table}.{counter} + 1"]
        updates += [f"{column(name)} = excluded.{column(name)}" for name in self.refreshed]
        # Names from the model, quoted by the backend; values are parameters.
        sql = (
            f"INSERT INTO {table} ({', '.join(quote(field.column) for field in fields)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(fields))}) "
            f"ON CONFLICT ({', '.join(map(column, self.unique))}) "
            f"DO UPDATE SET {', '.join(updates)} "
            f"RETURNING {', '.join(map(column, self.returning))}"
        )
        return sql, fields

    def __call__(self, values: dict, using: str = "default") -> tuple:
        connection = connections[using]
        if connection.vendor not in self._compiled:
            self._compiled[connection.vendor] = self._compile(connection)
        sql, fields = self._compiled[connection.vendor]
        params = [
            field.get_db_prep_save(
                values[field.attname] if field.attname in values else field.get_default(),
                connection,
            )
            for field in fields
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

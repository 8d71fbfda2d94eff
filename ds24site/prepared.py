"""Statements the IPN receiver runs on every delivery, compiled once per process.

Django compiles a queryset to SQL each time it runs; for the receiver's few fixed statements
that compiling costs more than the database does (py-spy over `make bench`'s ingestion:
the webhook lookup, the destinations lookup and the event's INSERT spent most of their time in
the SQL compiler). Here each statement's SQL is produced by Django itself, once per database
vendor, and then only executed with fresh parameters, so quoting, column lists and value
adaptation stay Django's.
"""

from collections.abc import Callable

from django.db import connections
from django.db.models import NOT_PROVIDED, Model, QuerySet
from django.db.models.signals import post_save, pre_save


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


def _insert_sql(model: type[Model], using: str) -> tuple[str, list, list]:
    """INSERT … RETURNING for every concrete field but the primary key and the fields whose
    value the database supplies (db_default), which come back with the primary key."""
    connection = connections[using]
    quote = connection.ops.quote_name
    fields, returned = [], [model._meta.pk]
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        (fields if field.db_default is NOT_PROVIDED else returned).append(field)
    # Names from the model, quoted by the backend; values are parameters.
    sql = "INSERT INTO {} ({}) VALUES ({}) RETURNING {}".format(  # noqa: S608
        quote(model._meta.db_table),
        ", ".join(quote(field.column) for field in fields),
        ", ".join(["%s"] * len(fields)),
        ", ".join(quote(field.column) for field in returned),
    )
    return sql, fields, returned


_INSERTS: dict[tuple[type[Model], str], tuple[str, list, list]] = {}


def insert(instance: Model, using: str = "default") -> None:
    """Save a new `instance` with one INSERT, as `instance.save(force_insert=True)` would,
    without the save machinery: no pre_save/post_save signals (so only for models nothing
    listens to) and no parent tables. Sets the primary key and the database's defaults."""
    model = type(instance)
    if pre_save.has_listeners(model) or post_save.has_listeners(model):
        instance.save(force_insert=True, using=using)  # someone listens: the full save
        return
    connection = connections[using]
    key = (model, connection.vendor)
    if key not in _INSERTS:
        _INSERTS[key] = _insert_sql(model, using)
    sql, fields, returned = _INSERTS[key]
    values = [
        field.get_db_prep_save(field.pre_save(instance, add=True), connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    for field, value in zip(returned, row, strict=True):
        setattr(instance, field.attname, field.to_python(value))
    instance._state.adding = False
    instance._state.db = using

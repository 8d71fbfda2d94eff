from django.db.models import BigIntegerField, Func


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

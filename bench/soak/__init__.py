"""`make soak`: the app as `make run` serves it (manage.py serve: gunicorn and a task worker),
fed IPNs as Digistore24 sends them while it is attacked and its processes and database fail,
then checked for what it promises: every IPN answered OK is stored exactly once, redeliveries
are counted, bad deliveries are rejected and listed, nothing answers 500, and every stored
event reaches every destination with a stable webhook-id.

    .venv/bin/python -m bench.soak                   # PostgreSQL, then SQLite (make soak)
    .venv/bin/python -m bench.soak --short --database sqlite

Modules: profiles (what a run does and when), stack (scratch database, the served app),
traffic (the IPNs and the Digistore24-like sender), attacks, receivers (the destinations),
drain (waiting for forwarding), checks, report; run is one pass on one database, __main__
runs the passes.
"""

"""Alembic environment: always online, on the connection :mod:`capwatch.store.migrate` hands in."""

from __future__ import annotations

from alembic import context

from capwatch.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "capwatch migrations run through capwatch.store.migrate.upgrade(), not the alembic CLI"
    )
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

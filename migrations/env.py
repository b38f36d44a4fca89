"""Alembic environment for sealbook.

The engine comes from ``config.attributes['engine']`` (set by
vault.store.engine.migrate), so migrations run with the same pragmas as the app.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from vault.store.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = context.config.attributes.get("engine")
    if not isinstance(engine, Engine):
        raise RuntimeError("sealbook migrations run through vault.store.migrate()")
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()

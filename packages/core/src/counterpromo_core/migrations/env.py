"""Alembic environment: migrations run online against the configured URL.

``db.migrate.upgrade`` hands its own connection in ``config.attributes["connection"]``
so the migrations, the adoption of the original application's tables and the lock
that serialises migration tasks share one transaction. Without it (downgrade,
plain alembic) each migration runs in its own transaction on a new engine.
"""

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from counterpromo_core.db.models import Base

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        compare_type=True,
        compare_server_default=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


given = config.attributes.get("connection")
if isinstance(given, Connection):
    # Already inside the caller's transaction: alembic runs in it and never commits.
    _run(given)
else:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:  # pragma: no cover - alembic_config always sets it
        raise RuntimeError("sqlalchemy.url is not configured")
    connectable = create_engine(url, poolclass=pool.NullPool, connect_args={"connect_timeout": 5})
    with connectable.connect() as connection:
        _run(connection)
    connectable.dispose()

"""Alembic environment: migrations run online against the configured URL."""

from alembic import context
from sqlalchemy import create_engine, pool

from counterpromo_core.db.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
if url is None:  # pragma: no cover - alembic_config always sets it
    raise RuntimeError("sqlalchemy.url is not configured")

connectable = create_engine(url, poolclass=pool.NullPool, connect_args={"connect_timeout": 5})
with connectable.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        compare_type=True,
        compare_server_default=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()
connectable.dispose()

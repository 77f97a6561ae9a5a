"""Database access: models, engine and session helpers, migrations."""

from counterpromo_core.db.engine import create_db_engine, session_factory
from counterpromo_core.db.migrate import current_revision, downgrade, head_revision, upgrade

__all__ = [
    "create_db_engine",
    "current_revision",
    "downgrade",
    "head_revision",
    "session_factory",
    "upgrade",
]

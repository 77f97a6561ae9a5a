"""Test fixtures shared by every Counter Promo member: a real PostgreSQL."""

from counterpromo_testing.ports import free_port
from counterpromo_testing.postgres import EmbeddedPostgres, PostgresStartError

__all__ = ["EmbeddedPostgres", "PostgresStartError", "free_port"]

"""Database settings, read from the environment (pydantic-settings)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DatabaseSettings(BaseSettings):
    """Where the database is and how hard to use it.

    ``DATABASE_URL`` accepts ``postgresql://`` URLs; they are normalised to the
    psycopg 3 driver.
    """

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str = Field(
        default="postgresql+psycopg://postgres@127.0.0.1:5432/counterpromo",
        validation_alias="DATABASE_URL",
    )
    pool_size: int = Field(default=5, validation_alias="DATABASE_POOL_SIZE")
    connect_timeout_seconds: int = Field(default=5, validation_alias="DATABASE_CONNECT_TIMEOUT")

    @property
    def sqlalchemy_url(self) -> str:
        return normalise_database_url(self.database_url)


def normalise_database_url(url: str) -> str:
    """Point a plain ``postgresql://`` or ``postgres://`` URL at the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url

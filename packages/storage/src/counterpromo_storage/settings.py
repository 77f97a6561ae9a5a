"""The process configuration (``AppConfig``) and the environment variables that override it.

Secrets are ``SecretStr``: ``repr()``, ``str()`` and logging show ``**********``;
call ``.get_secret_value()`` where the value is really needed.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, field_validator

from counterpromo_storage.naming import DEFAULT_REGION


class AppConfig(BaseModel):
    """Everything a Counter Promo process reads from its environment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    env: str
    region: str = DEFAULT_REGION
    aws_endpoint_url: str | None = None
    database_url: SecretStr
    jobs_queue_url: str
    jobs_dlq_url: str
    uploads_bucket: str
    assets_bucket: str
    exports_bucket: str
    app_url: str
    # The API's own public base URL (``https://api.example.com/api``): absolute URLs the API
    # sends (``Location``) start with it. Unset: the API sends relative URLs.
    api_public_url: str | None = None
    stripe_secret_key: SecretStr | None = None
    # Several during a rotation: a webhook is valid when any of them verifies it.
    stripe_webhook_secrets: list[SecretStr] = Field(default_factory=list)
    stripe_api_base: str | None = None
    # Stripe price id -> plan code, and plan code -> monthly price id.
    price_map: dict[str, str] = Field(default_factory=dict)
    plan_prices: dict[str, str] = Field(default_factory=dict)


def split_secrets(value: str) -> list[str]:
    """``"whsec_a, whsec_b"`` -> ``["whsec_a", "whsec_b"]`` (a rotation holds several)."""
    return [part.strip() for part in value.split(",") if part.strip()]


class EnvironmentOverrides(BaseModel):
    """The environment variables that override SSM and Secrets Manager (unset ones are None).

    Read from a mapping (``os.environ`` by default) rather than through pydantic-settings'
    class-level sources, so a loader can be given the environment of another process.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    env: str | None = Field(default=None, validation_alias="COUNTERPROMO_ENV")
    region: str | None = Field(
        default=None, validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION")
    )
    aws_endpoint_url: str | None = Field(default=None, validation_alias="AWS_ENDPOINT_URL")
    database_url: SecretStr | None = Field(default=None, validation_alias="DATABASE_URL")
    jobs_queue_url: str | None = Field(default=None, validation_alias="JOBS_QUEUE_URL")
    jobs_dlq_url: str | None = Field(default=None, validation_alias="JOBS_DLQ_URL")
    uploads_bucket: str | None = Field(default=None, validation_alias="UPLOADS_BUCKET")
    assets_bucket: str | None = Field(default=None, validation_alias="ASSETS_BUCKET")
    exports_bucket: str | None = Field(default=None, validation_alias="EXPORTS_BUCKET")
    app_url: str | None = Field(default=None, validation_alias="APP_URL")
    api_public_url: str | None = Field(default=None, validation_alias="API_PUBLIC_URL")
    stripe_secret_key: SecretStr | None = Field(default=None, validation_alias="STRIPE_SECRET_KEY")
    stripe_webhook_secrets: list[SecretStr] | None = Field(
        default=None, validation_alias="STRIPE_WEBHOOK_SECRET"
    )
    stripe_api_base: str | None = Field(default=None, validation_alias="STRIPE_API_BASE")

    @field_validator(
        "env",
        "region",
        "aws_endpoint_url",
        "jobs_queue_url",
        "jobs_dlq_url",
        "uploads_bucket",
        "assets_bucket",
        "exports_bucket",
        "app_url",
        "api_public_url",
        "stripe_api_base",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("database_url", "stripe_secret_key", mode="before")
    @classmethod
    def _empty_secret_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("stripe_webhook_secrets", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return split_secrets(value) or None
        return value


# The environment variable that overrides each AppConfig field (for docs and error messages).
ENV_VARS: dict[str, str] = {
    "env": "COUNTERPROMO_ENV",
    "region": "AWS_REGION",
    "aws_endpoint_url": "AWS_ENDPOINT_URL",
    "database_url": "DATABASE_URL",
    "jobs_queue_url": "JOBS_QUEUE_URL",
    "jobs_dlq_url": "JOBS_DLQ_URL",
    "uploads_bucket": "UPLOADS_BUCKET",
    "assets_bucket": "ASSETS_BUCKET",
    "exports_bucket": "EXPORTS_BUCKET",
    "app_url": "APP_URL",
    "api_public_url": "API_PUBLIC_URL",
    "stripe_secret_key": "STRIPE_SECRET_KEY",
    "stripe_webhook_secrets": "STRIPE_WEBHOOK_SECRET",
    "stripe_api_base": "STRIPE_API_BASE",
}


def read_overrides(environ: Mapping[str, str]) -> EnvironmentOverrides:
    return EnvironmentOverrides.model_validate(dict(environ))

"""Settings of the HTTP service itself (the shared ``AppConfig`` comes from storage).

Read from environment variables; none of them is a secret.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIB = 1024 * 1024


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    # Addresses whose X-Forwarded-For/-Proto are believed (the ALB's subnets in AWS).
    # "*" trusts everyone: only for a process that is reachable through the proxy alone.
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(
        default=["127.0.0.1"], validation_alias="FORWARDED_ALLOW_IPS"
    )
    max_body_bytes: int = Field(default=MIB, ge=1024, validation_alias="API_MAX_BODY_BYTES")
    # OIDC: bearer JWTs are accepted only when a JWKS URL is configured.
    oidc_jwks_url: str | None = Field(default=None, validation_alias="OIDC_JWKS_URL")
    oidc_issuer: str | None = Field(default=None, validation_alias="OIDC_ISSUER")
    oidc_audience: str | None = Field(default=None, validation_alias="OIDC_AUDIENCE")
    oidc_algorithms: Annotated[list[str], NoDecode] = Field(
        default=["RS256"], validation_alias="OIDC_ALGORITHMS"
    )
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    # Also serve every route under this path prefix ("/api" behind the deployed ALB, which
    # forwards /api/* to the API): /api/v1/..., /api/health. Empty: no prefix.
    api_prefix: str = Field(default="", validation_alias="COUNTERPROMO_API_PREFIX")

    @field_validator("api_prefix")
    @classmethod
    def _prefix_shape(cls, value: str) -> str:
        if value and not re.fullmatch(r"(/[A-Za-z0-9._~-]+)+", value):
            raise ValueError(
                f"COUNTERPROMO_API_PREFIX must look like /api (a leading /, no trailing /), "
                f"got {value!r}"
            )
        return value

    # Stored Stripe events are applied by a background applier in this process: how many
    # customers' events it applies at once (0: this process applies none; another does).
    webhook_applier_concurrency: int = Field(
        default=16, ge=0, le=64, validation_alias="WEBHOOK_APPLIER_CONCURRENCY"
    )
    # The applier runs in a child process, so applying a storm of events never takes the
    # GIL from requests; false: in a thread of this process (one process less, for tests).
    webhook_applier_process: bool = Field(default=True, validation_alias="WEBHOOK_APPLIER_PROCESS")
    # Webhook deliveries verified and stored at once by this process; others queue (cheaply,
    # on the event loop) instead of taking the CPU and threads users' requests need.
    webhook_max_concurrent: int = Field(
        default=2, ge=1, le=64, validation_alias="WEBHOOK_MAX_CONCURRENT"
    )

    @field_validator("forwarded_allow_ips", "oidc_algorithms", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("oidc_algorithms")
    @classmethod
    def _no_symmetric_or_none(cls, value: list[str]) -> list[str]:
        # A JWKS publishes public keys: "none" and HMAC algorithms would let anyone sign.
        bad = [a for a in value if a.lower() == "none" or a.upper().startswith("HS")]
        if bad:
            raise ValueError(f"algorithms not allowed for OIDC: {', '.join(bad)}")
        return value

    @model_validator(mode="after")
    def _oidc_complete(self) -> ApiSettings:
        if self.oidc_jwks_url and not (self.oidc_issuer and self.oidc_audience):
            raise ValueError("OIDC_JWKS_URL needs OIDC_ISSUER and OIDC_AUDIENCE as well")
        return self

    @property
    def oidc_enabled(self) -> bool:
        return self.oidc_jwks_url is not None

"""All configuration, typed, in one place: environment variables prefixed CONVERGENCE_ (or a .env file)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./var/convergence.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONVERGENCE_", env_file=".env", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="sqlite:///relative/path.db, sqlite:////absolute/path.db, "
        "postgresql://user[:password]@host[:port]/dbname[?schema=name], or memory:// (tests only)",
    )
    admin_token: SecretStr | None = Field(
        None, description="the operator's bearer token: acts for every CFA and issues CFA tokens"
    )
    postgres_pool_size: int = Field(10, ge=1)
    postgres_max_overflow: int = Field(30, ge=0, description="keep pool + overflow ≥ the web threadpool (40)")
    postgres_connect_timeout: int = Field(10, ge=1, description="seconds, also the wait for a pool connection")
    aggregate_cache_size: int = Field(2000, ge=0, description="dossiers kept in memory per process (0: none)")
    token_cache_seconds: float = Field(
        30.0,
        ge=0,
        description="how long a process trusts a token it has checked (a revocation waits this long)",
    )
    log_level: str = "info"

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://", "postgres://", "memory://")):
            raise ValueError("database_url must start with sqlite://, postgresql:// or memory://")
        return value

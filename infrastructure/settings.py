"""All configuration, typed, in one place: environment variables prefixed CONVERGENCE_ (or a .env file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./var/convergence.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CONVERGENCE_",
        env_file=".env",
        extra="ignore",
        hide_input_in_errors=True,  # secrets stay out
    )

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
        description="how long a process trusts a token from the moment it checked it in the store (using the token "
        "does not extend it): the longest a revocation waits in a process not told of it. The revoking process "
        "refuses the token at once; on PostgreSQL the others do as soon as they hear its NOTIFY; on SQLite, or if "
        "a notification is lost, the other processes refuse it within this time",
    )
    token_lifetime_days: int = Field(
        90,
        ge=1,
        le=3650,
        description="how long a CFA token issued without `expiresInDays` (or `--days`) stays valid; the operator renews"
        " it (POST /admin/tokens/{id}/renewal, `convergence tokens renew`)",
    )
    # -- hostile clients (interfaces/api/access/rate_limits.py, interfaces/api/security_headers.py) ------------------
    rate_limit_per_second: float = Field(
        50.0,
        ge=0,
        description="requests a second each token may send, sustained, per `serve` process (0: no limit); past it 429",
    )
    rate_limit_burst: int = Field(200, ge=1, description="requests a token may send at once before the rate applies")
    auth_failures_per_minute: float = Field(
        10.0,
        ge=0,
        description="authentication failures a minute each client address may make, sustained, per `serve` process"
        " (0: no limit); past it every request of that address without a valid cached token is 429",
    )
    auth_failures_burst: int = Field(20, ge=1, description="authentication failures an address may make at once")
    cors_allow_origins: list[str] = Field(
        default_factory=list,
        description='JSON, the browser origins that may call the API: ["https://app.example.fr"]; empty: no CORS',
    )
    log_level: str = "info"
    log_format: Literal["auto", "json", "text"] = Field(
        "auto", description="json: one JSON object per line; text: for a terminal; auto: json in production, else text"
    )
    environment: Literal["development", "production"] = Field(
        "development",
        description="production: the OPCO sandbox is never mounted nor used, and asking for it fails the start-up",
    )

    # -- request bodies (interfaces/api/body_limits.py) ------------------------------------------------------------
    max_body_bytes: int = Field(
        1_048_576,
        ge=65_536,
        description="bytes a request body may have (413 past it); the largest legitimate ones, a Cerfa with every"
        " text at its longest or an invoice of 500 lines, pretty-printed, are about 100 KB",
    )
    max_body_bytes_by_route: dict[str, int] = Field(
        default_factory=dict,
        description='JSON, a route\'s own limit by its path template: {"/contracts/{contract_id}/documents": 20971520}',
    )
    # -- documents (infrastructure/documents/store.py) -----------------------------------------------------------
    documents_dir: Path | None = Field(
        None, description="a directory for the documents (invoice PDFs); unset: a table of the database"
    )
    max_document_bytes: int = Field(
        10 * 1024 * 1024,
        ge=65_536,
        description="bytes a document (PDF, JPEG, PNG) may have; also the body limit of the routes that take one",
    )
    max_json_depth: int = Field(
        32,
        ge=8,
        le=256,
        description="how deep objects and arrays may nest in a JSON body (422 past it); a Cerfa needs 5",
    )

    # -- OPCOs and the software's identity towards them ---------------------------------------------------------
    editeur: str = Field("Convergence", description="EDITEUR header: the software vendor")
    logiciel: str = Field("Convergence", description="LOGICIEL header: the software")
    version: str = Field("0.1.0", description="VERSION header: the software's version")
    opco_afdas_url: str | None = None
    opco_akto_url: str | None = None
    opco_atlas_url: str | None = None
    opco_constructys_url: str | None = None
    opco_ocapiat_url: str | None = None
    opco_opco2i_url: str | None = None
    opco_opcoep_url: str | None = None
    opco_mobilites_url: str | None = None
    opco_sante_url: str | None = None
    opco_cohesion_sociale_url: str | None = None
    opco_opcommerce_url: str | None = None
    opco_overrides: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description='JSON, per OPCO code, any field of its profile: {"AKTO": {"protocol": 1, "token_url": "…"}}',
    )
    opco_environment: Literal["production", "test"] = Field(
        "production", description="whose addresses the OPCO catalogue gives: the OPCOs' production or test hosts"
    )
    opco_timeout_seconds: float = Field(30.0, gt=0, description="read timeout of a call to an OPCO")
    secret_key: SecretStr | None = Field(None, description="Fernet key sealing the OPCO credentials")
    secret_key_file: Path = Field(Path("var/secret.key"), description="where the key is kept when not set above")
    # -- encryption at rest (infrastructure/privacy/, docs/privacy.md) ----------------------------------------------
    data_keys: SecretStr | None = Field(
        None,
        description="the master keyring encrypting what is stored (events, memos, documents, the apprentices' data"
        " keys): `id:base64-32-bytes` entries, comma-separated, the first one writing, the others kept for reading",
    )
    data_keys_file: Path = Field(
        Path("var/data.keys"), description="where the keyring is kept when not set above (one entry per line)"
    )
    # -- backups (infrastructure/store/backup/, docs/operations.md) ----------------------------------------------------
    backup_dir: Path = Field(Path("var/backups"), description="where `convergence backup` writes (mode 0700)")
    postgres_bin_dir: Path | None = Field(
        None, description="the directory of pg_dump and pg_restore, for backups of PostgreSQL; unset: on PATH"
    )

    # -- the worker: transmission, state sync ----------------------------------------------------------------
    worker_in_serve: bool = Field(True, description="run the worker inside `convergence serve`")
    worker_metrics_port: int | None = Field(
        None, ge=1, le=65535, description="`convergence worker` serves /metrics on this port (unset: none)"
    )
    worker_metrics_host: str = Field("127.0.0.1", description="the interface of the worker's metrics port")
    sync_interval_seconds: float = Field(180.0, gt=0)
    sender_poll_seconds: float = Field(1.0, gt=0)
    projection_poll_seconds: float = Field(0.5, gt=0)
    sender_concurrency: int = Field(16, ge=1, description="dossiers sent at the same time")
    sync_concurrency: int = Field(8, ge=1, description="OPCO accounts (CFA × OPCO) polled at the same time by a sync")
    max_failures: int = Field(8, ge=1, description="transient failures before a dossier is parked")
    backoff_base_seconds: float = Field(2.0, gt=0)
    backoff_cap_seconds: float = Field(600.0, gt=0)
    lease_seconds: float = Field(
        30.0, gt=0, description="how long another process waits before taking over a task whose worker died"
    )
    in_flight_timeout_seconds: float = Field(
        120.0, gt=0, description="an attempt without outcome older than this is taken as lost (crash)"
    )

    walk_retention_seconds: float = Field(
        3600.0,
        ge=60,
        description="a list walk (GET /contracts, /invoices) begun this long ago may be refused (410) from then on:"
        " older versions are pruned",
    )
    prune_interval_seconds: float = Field(60.0, gt=0, description="how often the worker prunes the read models")

    attention_problem_days: int = Field(
        7, ge=0, description="a draft still blocked by problems after this many days is listed on /attention"
    )
    attention_invoice_days: int = Field(
        30, ge=0, description="an échéance open for more than this many days and not invoiced is listed on /attention"
    )

    # -- the lookup of the employer's OPCO by SIRET (docs/opco-routing.md) ----------------------------------------
    opco_lookup_enabled: bool = Field(
        False, description="ask a public directory (CFA Dock) for the employer's OPCO by SIRET; off: the IDCC table"
    )
    opco_lookup_url: str = Field("https://www.cfadock.fr/api", description="the directory's API (GET /opcos?siret=)")
    opco_lookup_timeout_seconds: float = Field(5.0, gt=0, description="a lookup slower than this is given up")
    opco_lookup_ttl_seconds: float = Field(
        30 * 86400.0, gt=0, description="how long an answer is kept (in the store) before the directory is asked again"
    )

    # -- the reference OPCO sandbox ----------------------------------------------------------------------------
    sandbox: Literal["auto", "on", "off"] = Field(
        "auto", description="mount the sandbox in `serve` and point every unconfigured OPCO at it (auto: on SQLite)"
    )
    sandbox_url: str | None = Field(None, description="a sandbox running elsewhere (`convergence sandbox`)")
    sandbox_admin_token: SecretStr | None = Field(
        None,
        description="the Bearer of /_sandbox/* at a standalone sandbox (`convergence sandbox`, and what the service "
        "sends to CONVERGENCE_SANDBOX_URL); none: the installation's sandbox token (`convergence sandbox-credentials`)",
    )
    sandbox_state_path: str = Field("var/sandbox.db", description="the mounted sandbox's dossiers (':memory:')")
    sandbox_instruction_delay: float = Field(2.0, ge=0)
    sandbox_decision_delay: float = Field(5.0, ge=0)
    sandbox_invoice_delay: float = Field(
        5.0,
        ge=0,
        description="the mounted sandbox's delay before each step of an invoice (instruction, validation, payment)",
    )
    sandbox_partial_payment: bool = Field(False, description="the mounted sandbox pays invoices in two steps")
    sandbox_strict: bool = Field(
        False, description="the mounted sandbox refuses a dossier with a key or a type outside the wire (docs/wire.md)"
    )
    self_url: str | None = Field(None, description="this service's own base URL (set by `convergence serve`)")

    def sandbox_mounted(self) -> bool:
        if self.environment == "production":
            return False
        return self.sandbox == "on" or (self.sandbox == "auto" and self.database_url.startswith("sqlite://"))

    @model_validator(mode="after")
    def _no_sandbox_in_production(self) -> Settings:
        if self.environment == "production" and (self.sandbox == "on" or self.sandbox_url):
            raise ValueError(
                "CONVERGENCE_ENVIRONMENT=production never mounts nor uses the OPCO sandbox (it keeps every dossier it"
                " receives, NIRs included, and plays the OPCOs): unset CONVERGENCE_SANDBOX=on and"
                " CONVERGENCE_SANDBOX_URL, and set each OPCO's CONVERGENCE_OPCO_<CODE>_URL"
            )
        return self

    @model_validator(mode="after")
    def _shared_key_in_production(self) -> Settings:
        """A key made on first use is this host's alone: another host could not open what this one sealed."""
        if self.environment == "production" and self.secret_key is None and not self.secret_key_file.is_file():
            raise ValueError(
                "CONVERGENCE_ENVIRONMENT=production needs the secret key that seals the OPCO credentials and IBANs,"
                " the same on every host: set CONVERGENCE_SECRET_KEY, or CONVERGENCE_SECRET_KEY_FILE to an existing"
                " key file (make one with: python3 -c 'from cryptography.fernet import Fernet;"
                " print(Fernet.generate_key().decode())')"
            )
        return self

    @model_validator(mode="after")
    def _shared_keyring_in_production(self) -> Settings:
        """A keyring made on first use is this host's alone, and nothing another host wrote would open."""
        if self.environment == "production" and self.data_keys is None and not self.data_keys_file.is_file():
            raise ValueError(
                "CONVERGENCE_ENVIRONMENT=production needs the keyring that encrypts the stored data, the same on"
                " every host: set CONVERGENCE_DATA_KEYS, or CONVERGENCE_DATA_KEYS_FILE to an existing key file (make"
                " one with: convergence keys new --id k1)"
            )
        return self

    def opco_url(self, code: str) -> str | None:
        value: str | None = getattr(self, f"opco_{code.lower()}_url")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://", "postgres://", "memory://")):
            raise ValueError("database_url must start with sqlite://, postgresql:// or memory://")
        return value

"""What a sandbox run is made of: its knobs and the faults it injects. Plain dataclasses, no environment reading."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from domain.opco.opco_auth import AuthFlavour
from domain.opco.opco_catalogue import CATALOGUE
from domain.opco.opcos import Opco

# The OPCOs whose dialect asks for a token (SOR, Keycloak, Okta with DPoP): the sandbox plays each in its own.
DEFAULT_OAUTH_OPCOS = frozenset(opco for opco, profile in CATALOGUE.items() if profile.oauth)
DEFAULT_NPEC = Decimal("8000.00")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Faults:
    """Failures injected into every OPCO call (never into /_sandbox/*). Rates are probabilities in 0..1."""

    error_rate: float = 0.0  # 500/502/503
    rate_limit_rate: float = 0.0  # 429 with Retry-After
    retry_after_seconds: int = 1
    timeout_rate: float = 0.0  # the answer comes timeout_seconds late
    timeout_seconds: float = 30.0
    reset_rate: float = 0.0  # the connection is dropped in the middle of the response body
    latency_ms: int = 0  # added to every call
    after_store_share: float = 0.5  # POST /dossiers and /factures: share of the faults injected after the store
    seed: int | None = None

    def __post_init__(self) -> None:
        rates = (self.error_rate, self.rate_limit_rate, self.timeout_rate, self.reset_rate, self.after_store_share)
        if any(not 0.0 <= rate <= 1.0 for rate in rates):
            raise ValueError("rates must be between 0 and 1")
        if self.error_rate + self.rate_limit_rate + self.timeout_rate + self.reset_rate > 1.0:
            raise ValueError("the fault rates must add up to at most 1")
        if self.latency_ms < 0 or self.timeout_seconds < 0 or self.retry_after_seconds < 0:
            raise ValueError("delays must not be negative")

    def to_wire(self) -> dict[str, Any]:
        return {_camel(item.name): getattr(self, item.name) for item in fields(self)}

    def updated(self, wire: Mapping[str, Any]) -> Faults:
        """A copy with the camelCase fields of `wire` replaced; unknown fields are an error."""
        names = {_camel(item.name): item.name for item in fields(self)}
        unknown = set(wire) - set(names)
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
        current = {item.name: getattr(self, item.name) for item in fields(self)}
        current.update({names[key]: value for key, value in wire.items()})
        return Faults(**current)


def _camel(name: str) -> str:
    head, *tail = name.split("_")
    return head + "".join(part.title() for part in tail)


@dataclass(slots=True)
class SandboxConfig:
    """Everything a sandbox needs; the composition root builds it from the settings."""

    clock: Callable[[], datetime] = utc_now  # aware datetimes
    instruction_delay: float = 2.0  # seconds from TRANSMIS to EN_COURS_INSTRUCTION
    decision_delay: float = 5.0  # seconds from EN_COURS_INSTRUCTION to the decision (ENGAGE or REFUSE)
    invoice_instruction_delay: float = 2.0  # seconds from TRANSMISE to EN_COURS_INSTRUCTION
    invoice_validation_delay: float = 5.0  # seconds from EN_COURS_INSTRUCTION to VALIDEE (or REFUSEE)
    invoice_payment_delay: float = 5.0  # seconds from VALIDEE to REGLE (to each payment when paid in two steps)
    partial_payment: bool = False  # invoices received meanwhile are paid in two steps: REGLE_PARTIEL, then REGLE
    invoice_refusal_marker: str | None = "REFUS"  # an invoice whose numero (the CFA's) contains it is REFUSEE
    ineligible_rncp: set[str] = field(default_factory=lambda: {"RNCP00000"})
    npec_by_rncp: dict[str, Decimal] = field(default_factory=dict)
    default_npec: Decimal = DEFAULT_NPEC  # for any RNCP absent from npec_by_rncp
    oauth_opcos: frozenset[Opco] = DEFAULT_OAUTH_OPCOS
    # client id → secret; empty: the installation's client, drawn at random and kept in the store (`oauth_client`)
    oauth_clients: dict[str, str] = field(default_factory=dict)
    # the Bearer /_sandbox/* requires; by default one drawn for this run only (see admin_auth)
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    token_ttl_seconds: int = 3600
    dpop_max_age_seconds: float = 300.0  # how far a DPoP proof's iat may be from the wall clock (not `clock`)
    key_validity_days: int = 365
    page_size: int = 50
    strict_dossiers: bool = False  # refuse a dossier with a key or a type outside the wire's description
    faults: Faults = field(default_factory=Faults)
    state_path: Path | None = None  # a SQLite file; None keeps everything in memory

    def npec_for(self, rncp: str) -> Decimal:
        return self.npec_by_rncp.get(rncp, self.default_npec)

    def dialect(self, opco: Opco) -> AuthFlavour:
        """How `opco` authenticates the software here: the catalogue's dialect, where it asks for a token."""
        return CATALOGUE[opco].auth if opco in self.oauth_opcos else AuthFlavour.KEY_ONLY

    def oauth_client_secret(self, client_id: str) -> str | None:
        """The secret of a registered OAuth client, or None: the one place the sandbox reads its client registry."""
        return self.oauth_clients.get(client_id)

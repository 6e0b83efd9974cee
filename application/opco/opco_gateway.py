"""The port to the OPCOs' information systems (API Convergence), as the application needs it.

The infrastructure's httpx client implements it; tests may use the reference sandbox over loopback.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal, Protocol
from uuid import UUID

from domain.cerfa import Cerfa
from domain.contracts.contract import Contract
from domain.invoicing.annex import annex_record
from domain.invoicing.invoice import Invoice
from domain.invoicing.kinds import InvoiceKind
from domain.invoicing.lines import InvoiceLine
from domain.invoicing.states import PAYMENT_STATES
from domain.invoicing.transfers import Transfer
from domain.opco.opco_catalogue import ErrorShape
from domain.opco.opcos import Opco

ENGAGE = "ENGAGE"  # the OPCO committed to fund the contract
DossierNumber = Literal["numeroExterne", "numeroDeca"]  # the other numbers an OPCO finds a dossier by


@dataclass(frozen=True, slots=True)
class OpcoEndpoint:
    """Everything needed to call one OPCO on behalf of one CFA."""

    opco: Opco
    base_url: str  # e.g. https://apiopco.example/ApiEchangeCFA (the client appends /v{n}/...)
    protocol: int  # 1 or 2: the path prefix /v1 or /v2 for dossiers and their states
    api_key: str = field(repr=False)  # the CFA's key at this OPCO: X-API-KEY
    client_id: str | None = None  # OAuth2 client credentials of the software, where the OPCO requires them
    client_secret: str | None = field(default=None, repr=False)
    token_url: str | None = None  # absolute URL of the OAuth2 token endpoint
    scope: str | None = None
    dpop_key: str | None = field(default=None, repr=False)  # private JWK (JSON) signing DPoP proofs (RFC 9449)
    errors: ErrorShape = field(default_factory=ErrorShape)  # where the OPCO puts its words in an error answer
    invoice_path: str = "/v1/factures"  # `/v1/Factures` on the SOR hosts (the catalogue's `invoice_path`)


@dataclass(frozen=True, slots=True)
class SentDossier:
    """The OPCO's answer to POST /dossiers: its number of the dossier, and the numeroInterne it keeps it under
    (ours echoed, or its own: real clients store what comes back, opco-wire.md §2.2, §3)."""

    numero_externe: str | None
    etat: str | None
    numero_interne: str | None = None
    sent_sha256: str | None = None  # the SHA-256 of the body sent, and of the OPCO's answer, as exchanged
    answer_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class Echeance:
    numero: int
    codification: str | None
    montant_total: Decimal
    montant_regle: Decimal
    montant_en_cours_instruction: Decimal
    date_ouverture: date | None
    date_debut: date | None
    date_fin: date | None

    def as_record(self) -> dict[str, object]:
        """As the dossier keeps it in its events: amounts as decimal strings, dates ISO."""
        return {
            "numero": self.numero,
            "codification": self.codification,
            "montantTotal": str(self.montant_total),
            "montantRegle": str(self.montant_regle),
            "montantEnCoursInstruction": str(self.montant_en_cours_instruction),
            "dateOuverture": _iso(self.date_ouverture),
            "dateDebut": _iso(self.date_debut),
            "dateFin": _iso(self.date_fin),
        }


@dataclass(frozen=True, slots=True)
class FraisAnnexe:
    """One item of the dossier's `engagementsFraisAnnexe`: what the OPCO engaged for one nature of annex cost."""

    nature: str  # the OPCO's word, verbatim (Premierequipement, Restauration, HEBERGEMENT, ...)
    kind: InvoiceKind | None  # the invoice kind it funds; None for a nature we do not invoice
    quantite: Decimal | None
    prix_unitaire: Decimal | None
    montant_total: Decimal | None

    def as_record(self) -> dict[str, object]:
        return annex_record(
            kind=self.kind,
            nature=self.nature,
            quantite=self.quantite,
            prix_unitaire=self.prix_unitaire,
            montant_total=self.montant_total,
        )


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True, slots=True)
class OpcoDossier:
    numero_interne: str
    numero_externe: str | None
    numero_deca: str | None
    etat: str | None
    commentaire_etat: str | None
    engagement: Decimal | None
    echeances: tuple[Echeance, ...] = ()
    premier_equipement_ceiling: Decimal | None = None  # detailsFacturation.plafondFraisPremierEquipement
    frais_annexes: tuple[FraisAnnexe, ...] = ()  # engagementsFraisAnnexe
    cerfa: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # in our Cerfa's terms
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def record_commitment_on(self, contract: Contract, actor: str) -> None:
        """Once the OPCO committed (ENGAGE), keep its figures on the dossier."""
        if self.etat == ENGAGE:
            ceiling = self.premier_equipement_ceiling
            contract.record_commitment(
                engagement=None if self.engagement is None else str(self.engagement),
                echeances=[e.as_record() for e in self.echeances],
                premier_equipement_ceiling=None if ceiling is None else str(ceiling),
                frais_annexes=[item.as_record() for item in self.frais_annexes],
                actor=actor,
            )


@dataclass(frozen=True, slots=True)
class DossierState:
    """One item of GET /v{n}/dossiers/etats (EtatDossierResult)."""

    numero_interne: str
    numero_externe: str | None
    numero_deca: str | None
    etat: str
    commentaire_etat: str | None = None


@dataclass(frozen=True, slots=True)
class ListedDossier:
    """One item of GET /v{n}/dossiers/etats as an import reads it: every row, also those without numeroInterne
    (deposited some other way, opco-wire.md §3), which `dossier_states` leaves out."""

    numero_interne: str | None
    numero_externe: str | None
    numero_deca: str | None
    etat: str | None
    commentaire_etat: str | None = None


@dataclass(frozen=True, slots=True)
class OutgoingInvoice:
    """An invoice as the gateway sends it (multipart: its `facture` part and its PDF, opco-wire.md §5)."""

    numero: str  # the CFA's invoice number, from its sequence (the `numero` of the `facture` part)
    issued_on: date
    issuer_siret: str
    iban: str = field(repr=False)
    lines: tuple[InvoiceLine, ...]
    numeros_deca: Mapping[UUID, str | None]  # each contract's DECA number, by contract id
    pdf: bytes = field(repr=False)
    est_certificat_realisation: bool = False


@dataclass(frozen=True, slots=True)
class SentInvoice:
    """The OPCO's answer to POST /v1/factures: its own numbers of the invoice (`numeroInterneFacture`, needed by
    the state sync, and `numeroInterneDocument`, needed to attach documents later)."""

    numero_externe: str | None  # the OPCO's reference of the invoice, where it gives one (numeroExterneFacture)
    etat: str | None  # its etatFacture, where it gives one
    numero_interne_facture: str | None = None
    numero_interne_document: str | None = None


@dataclass(frozen=True, slots=True)
class InvoiceState:
    """One item of GET /v2/factures/etats (or the answer of GET /v1/factures?numeroInterneFacture=…).

    `montant_regle` is not in the sources (api-convergence.md §3.2 shows REGLE with `montantFacture` only): when an
    OPCO leaves it out, REGLE means paid in full."""

    numero_interne_facture: str  # the OPCO's number of the invoice
    etat: str
    numero: str | None = None  # the CFA's invoice number, where the OPCO echoes it
    numero_interne_document: str | None = None
    montant_facture: Decimal | None = None
    montant_regle: Decimal | None = None
    reference_virement: str | None = None
    date_reglement: date | None = None
    commentaire: str | None = None
    numero_externe: str | None = None
    transfers: tuple[Transfer, ...] = ()  # its `reglements`, where the OPCO details them

    def record_payment_on(self, invoice: Invoice, actor: str) -> None:
        """Where the OPCO reports a payment (REGLE, REGLE_PARTIEL), record each transfer it lists; failing a list
        (or a reference on each), what it paid in all."""
        if self.etat not in PAYMENT_STATES:
            return
        if self.transfers and all(t.reference.strip() for t in self.transfers):
            invoice.record_opco_transfers(self.transfers, actor)
        else:
            invoice.record_opco_payment(
                paid_total=self.montant_regle if self.montant_regle is not None else invoice.amount,
                paid_on=self.date_reglement,
                reference_virement=self.reference_virement,
                actor=actor,
            )


@dataclass(frozen=True, slots=True)
class KeyInfo:
    valid: bool
    expires_on: date | None
    comment: str | None


@dataclass(frozen=True, slots=True)
class OutgoingRupture:
    """A rupture as the gateway sends it to POST /v2/dossiers/rupture/employeur (its body is not public: the
    gateway writes it in one place, infrastructure/opco/opco_wire/rupture.py, docs/wire.md R1…)."""

    numero_interne: str  # the number the OPCO knows the dossier by
    numero_externe: str | None
    numero_deca: str | None
    date_effet: date
    motif: str  # domain.ruptures.rupture.Motif
    initiative: str
    date_signalement: date
    commentaire: str | None = None


@dataclass(frozen=True, slots=True)
class SentRupture:
    """The OPCO's answer to a rupture, as far as it can be read: the dossier's state and number, where given."""

    etat: str | None
    numero_externe: str | None = None
    sent_sha256: str | None = None  # the SHA-256 of the body sent, and of the OPCO's answer, as exchanged
    answer_sha256: str | None = None


class OpcoError(Exception):
    """Base of every failure to talk to an OPCO."""

    sent_sha256: str | None = None  # the digest of the body sent, when the failure came after sending one


class TransientOpcoError(OpcoError):
    """Worth retrying later: connection error, timeout, 429, 5xx.

    `may_have_reached` is True when the OPCO may have received and stored the request (a timeout or a dropped
    connection after the body was sent, a 5xx): look the dossier up before sending it again."""

    def __init__(self, message: str, *, retry_after: float | None = None, may_have_reached: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.may_have_reached = may_have_reached


class RefusedByOpco(OpcoError):
    """The OPCO refused the request (400/409/422), with its messages (its `errors` list or its `comment`)."""

    def __init__(self, status: int, messages: list[str]) -> None:
        super().__init__(f"refused by the OPCO ({status}): " + "; ".join(messages))
        self.status = status
        self.messages = messages


class KeyRejected(OpcoError):
    """403: the CFA's API key is invalid, expired or lacks the rights; a new key is needed."""


class NotSupported(OpcoError):
    """The OPCO does not offer this call (501, or absent from its capabilities)."""


class OpcoGateway(Protocol):
    def send_contract(self, endpoint: OpcoEndpoint, numero_interne: str, cerfa: Cerfa) -> SentDossier:
        """POST /v{n}/dossiers: the dossier as this OPCO's wire writes it (the gateway translates it)."""
        ...

    def find_dossier(self, endpoint: OpcoEndpoint, numero_interne: str) -> OpcoDossier | None:
        """GET /v{n}/dossiers?numeroInterne=… (the number the OPCO knows it by); None when the OPCO does not know
        it (404, or 400 at OPCO EP)."""
        ...

    def dossier_states(self, endpoint: OpcoEndpoint) -> Iterator[DossierState]:
        """GET /v{n}/dossiers/etats?numeroPage=1,2,… until `total` items are read, an empty page or a page with
        nothing new; never more requests than the pages announced, plus one (envelope, wrapped or bare array)."""
        ...

    def send_invoice(self, endpoint: OpcoEndpoint, invoice: OutgoingInvoice) -> SentInvoice:
        """POST /v1/factures (`/v1/Factures` on the SOR hosts): multipart, `facture` and `fichier` (its PDF)."""
        ...

    def find_invoice(self, endpoint: OpcoEndpoint, numero: str) -> InvoiceState | None:
        """The invoice the CFA numbered `numero` (GET /v1/factures?numero=…, docs/wire.md I6); None when the OPCO
        does not know it (404, or 400 at OPCO EP)."""
        ...

    def invoice_states(self, endpoint: OpcoEndpoint) -> Iterator[InvoiceState]:
        """GET /v2/factures/etats?numeroPage=1,2,… (list key `factures`) until `total` items are read."""
        ...

    def service_status(self, endpoint: OpcoEndpoint) -> dict[str, Any]:
        """GET /v1/status."""
        ...

    def key_info(self, endpoint: OpcoEndpoint, siren: str) -> KeyInfo:
        """GET /v2/cfakeyinfo?siren=…&XAPIKEY=…"""
        ...

    def dossier_list(self, endpoint: OpcoEndpoint) -> Iterator[ListedDossier]:
        """GET /v{n}/dossiers/etats, every page as `dossier_states` reads them, every row kept (rows without
        numeroInterne or without etat too): the OPCO's complete list of the CFA's dossiers, for an import."""
        ...

    def find_dossier_by(self, endpoint: OpcoEndpoint, field: DossierNumber, value: str) -> OpcoDossier | None:
        """GET /v{n}/dossiers?numeroExterne=… or ?numeroDeca=… (api-convergence.md); None when the OPCO does not
        know it. The dossier's `numero_interne` is "" when the OPCO has none for it."""
        ...

    def send_convention(self, endpoint: OpcoEndpoint, convention: OutgoingConvention) -> SentDocument:
        """POST /v1/conventions: multipart, `convention` (JSON) and `fichier` (the signed convention)."""
        ...

    def send_document(self, endpoint: OpcoEndpoint, document: OutgoingDocument) -> SentDocument:
        """POST /v1/documents: multipart, `infosFichier` ({typeFichier, objets}) and `fichier`."""
        ...

    def send_certificat(self, endpoint: OpcoEndpoint, certificat: OutgoingCertificat) -> SentDocument:
        """POST /v2/certificats (AFDAS): multipart, `certificat` (JSON) and `fichier`."""
        ...

    def send_rupture(self, endpoint: OpcoEndpoint, rupture: OutgoingRupture) -> SentRupture:
        """POST /v2/dossiers/rupture/employeur, where the catalogue says the OPCO takes it (`ruptures`)."""
        ...


@dataclass(frozen=True, slots=True)
class OutgoingFile:
    """The `fichier` part of a document sent to an OPCO."""

    content: bytes = field(repr=False)
    media_type: str  # application/pdf, image/jpeg or image/png: read from the content
    file_name: str


@dataclass(frozen=True, slots=True)
class OutgoingDocument:
    """POST /v1/documents (opco-wire.md §4.3)."""

    type_fichier: str  # CERTIFICAT_REALISATION, CONVENTION_FORMATION, …
    objets: tuple[tuple[str, str], ...]  # (typeObjet, idObjet): DOSSIER_APPRENTISSAGE or FACTURE and its number
    file: OutgoingFile


@dataclass(frozen=True, slots=True)
class OutgoingConvention:
    """POST /v1/conventions (opco-wire.md §4.2): the convention's fields come from the dossier."""

    numero_interne_dossier: str  # the dossier's numeroInterne as the OPCO knows it
    cerfa: Cerfa
    mandat_employeur: bool | None  # the CFA files the contract under the employer's mandate
    file: OutgoingFile


@dataclass(frozen=True, slots=True)
class OutgoingCertificat:
    """POST /v2/certificats (api-convergence.md §3.4)."""

    numero_interne_dossier: str
    numero_interne_facture: str | None  # the OPCO's number of the invoice it goes with, where known
    type_certificat: str  # Intermediaire or Final
    echeance: Mapping[str, Any]  # numero (required), and as the OPCO's échéancier gives them: codification, dates
    cerfa: Cerfa
    file: OutgoingFile


@dataclass(frozen=True, slots=True)
class SentDocument:
    """The OPCO's answer to a document: the identifiers it gives (kept verbatim, e.g. numeroInterneDocument)."""

    identifiers: Mapping[str, str]
    etat: str | None = None

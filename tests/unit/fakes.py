"""In-memory doubles for the OPCO connector: a scriptable OPCO, a contact log, a reversible secret box, a clock
that moves only when told, and a transmissions read model.

`FakeGateway` plays every OPCO at once. Left alone it behaves like a well-mannered OPCO: a POST stores the dossier
(a second POST of the same numeroInterne stores it again and counts as a second dossier, as some OPCOs really do:
that is what `created()` catches), a lookup finds what was stored, the states list what was stored. Each method
can be scripted with a queue of outcomes, used one per call before the default behaviour resumes:

- an exception instance: raised, the OPCO never saw the request;
- `AnswerLost(error)` (POST only): the OPCO stores the dossier, then `error` reaches the caller;
- a value: returned as the answer (for `dossier_states`, an iterable of `DossierState` whose exception items are
  raised when the iteration reaches them, like a page that fails half-way through).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking

from application.documents import Document
from application.invoices.invoice_document import InvoiceDocument
from application.opco.opco_gateway import (
    DossierNumber,
    DossierState,
    Echeance,
    InvoiceState,
    KeyInfo,
    ListedDossier,
    OpcoDossier,
    OpcoEndpoint,
    OpcoError,
    OutgoingCertificat,
    OutgoingConvention,
    OutgoingDocument,
    OutgoingFile,
    OutgoingInvoice,
    OutgoingRupture,
    SentDocument,
    SentDossier,
    SentInvoice,
    SentRupture,
)
from application.opco.transmissions import TOPICS, QueuedTransmission, QueueStatus, RowChange, row_changes
from application.ports import Contact
from domain.cerfa import Cerfa
from domain.documents import DocumentRef, describe
from domain.opco.opcos import Opco

SEND = "send_contract"
FIND = "find_dossier"
STATES = "dossier_states"
STATUS = "service_status"
KEY_INFO = "key_info"
SEND_INVOICE = "send_invoice"
FIND_INVOICE = "find_invoice"
INVOICE_STATES = "invoice_states"
LIST = "dossier_list"
FIND_BY = "find_dossier_by"
SEND_CONVENTION = "send_convention"
SEND_DOCUMENT = "send_document"
SEND_CERTIFICAT = "send_certificat"
SEND_RUPTURE = "send_rupture"
METHODS = frozenset(
    {SEND, FIND, STATES, STATUS, KEY_INFO, SEND_INVOICE, FIND_INVOICE, INVOICE_STATES, LIST, FIND_BY}
    | {SEND_CONVENTION, SEND_DOCUMENT, SEND_CERTIFICAT, SEND_RUPTURE}
)


@dataclass(frozen=True, slots=True)
class AnswerLost:
    """The OPCO received and stored the POST; its answer never came back and `error` was raised instead."""

    error: OpcoError


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    opco: Opco
    api_key: str
    numero_interne: str | None
    payload: dict[str, Any] | None = None
    cerfa: Cerfa | None = None  # what POST /dossiers was given, before the gateway's translation to the wire
    invoice: OutgoingInvoice | None = None  # what POST /v1/factures was given, before the translation to the wire
    rupture: OutgoingRupture | None = None  # what POST /v2/dossiers/rupture/employeur was given


class _Default:
    """No scripted outcome left: the OPCO behaves normally."""


_DEFAULT = _Default()


class FakeGateway:
    """An `OpcoGateway` in memory; see the module's docstring."""

    def __init__(self) -> None:
        self.dossiers: dict[tuple[Opco, str], OpcoDossier] = {}
        self.invoices: dict[tuple[Opco, str], InvoiceState] = {}
        self.calls: list[Call] = []
        self._script: dict[str, deque[object]] = defaultdict(deque)
        self._created: Counter[tuple[Opco, str]] = Counter()
        self.ruptures: Counter[tuple[Opco, str]] = Counter()  # ruptures the OPCO received, by dossier
        self._serial = 0

    # -- scripting and inspection ---------------------------------------------------------------------------

    def script(self, method: str, *outcomes: object) -> None:
        if method not in METHODS:
            raise ValueError(f"no gateway method {method!r}")
        self._script[method].extend(outcomes)

    def pending(self, method: str) -> int:
        """Scripted outcomes not used yet (a test that scripts more than it triggers is checked with this)."""
        return len(self._script[method])

    def put(self, opco: Opco, dossier: OpcoDossier) -> None:
        """The OPCO holds this dossier (sent earlier, by an attempt whose outcome was lost)."""
        self.dossiers[(opco, dossier.numero_interne)] = dossier

    def decide(self, opco: Opco, numero_interne: str, etat: str, **changes: Any) -> OpcoDossier:
        """The OPCO moves a dossier it holds to another state (and may change its other fields)."""
        dossier = replace(self.dossiers[(opco, numero_interne)], etat=etat, **changes)
        self.dossiers[(opco, numero_interne)] = dossier
        return dossier

    def calls_of(self, method: str, numero_interne: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method and (numero_interne is None or c.numero_interne == numero_interne)
        ]

    def posts(self, numero_interne: str) -> int:
        """POST /dossiers calls made for this numeroInterne, whether or not they reached the OPCO."""
        return len(self.calls_of(SEND, numero_interne))

    def lookups(self, numero_interne: str) -> int:
        return len(self.calls_of(FIND, numero_interne))

    def created(self, numero_interne: str, opco: Opco | None = None) -> int:
        """Dossiers the OPCO created from POSTs of this numeroInterne: more than one is a duplicate at the OPCO."""
        return sum(n for (o, num), n in self._created.items() if num == numero_interne and opco in (None, o))

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    # -- the port -------------------------------------------------------------------------------------------

    def send_contract(self, endpoint: OpcoEndpoint, numero_interne: str, cerfa: Cerfa) -> SentDossier:
        numero = numero_interne
        self.calls.append(Call(SEND, endpoint.opco, endpoint.api_key, numero, cerfa=cerfa))
        outcome = self._next(SEND)
        if isinstance(outcome, AnswerLost):
            self._store(endpoint.opco, numero)
            raise outcome.error
        if isinstance(outcome, BaseException):
            raise outcome
        if isinstance(outcome, SentDossier):
            self._store(endpoint.opco, numero, outcome.numero_externe, outcome.etat)
            return outcome
        if outcome is not _DEFAULT:
            raise TypeError(f"cannot answer a POST with {outcome!r}")
        stored = self._store(endpoint.opco, numero)
        return SentDossier(stored.numero_externe, stored.etat, stored.numero_interne)

    def find_dossier(self, endpoint: OpcoEndpoint, numero_interne: str) -> OpcoDossier | None:
        self.calls.append(Call(FIND, endpoint.opco, endpoint.api_key, numero_interne))
        outcome = self._next(FIND)
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome is _DEFAULT:
            return self.dossiers.get((endpoint.opco, numero_interne))
        if outcome is None or isinstance(outcome, OpcoDossier):
            return outcome
        raise TypeError(f"cannot answer a lookup with {outcome!r}")

    def dossier_states(self, endpoint: OpcoEndpoint) -> Iterator[DossierState]:
        self.calls.append(Call(STATES, endpoint.opco, endpoint.api_key, None))
        outcome = self._next(STATES)
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome is _DEFAULT:
            items: Iterable[object] = [
                DossierState(num, d.numero_externe, d.numero_deca, d.etat or "TRANSMIS", d.commentaire_etat)
                for (opco, num), d in self.dossiers.items()
                if opco is endpoint.opco
            ]
        elif isinstance(outcome, Iterable):
            items = list(outcome)
        else:
            raise TypeError(f"cannot answer the states with {outcome!r}")
        return _paged(items)

    def dossier_list(self, endpoint: OpcoEndpoint) -> Iterator[ListedDossier]:
        """Every dossier held at this OPCO, plus those `listed_elsewhere` (deposited some other way)."""
        self.calls.append(Call(LIST, endpoint.opco, endpoint.api_key, None))
        outcome = self._next(LIST)
        if isinstance(outcome, BaseException):
            raise outcome
        held = [
            ListedDossier(d.numero_interne or None, d.numero_externe, d.numero_deca, d.etat, d.commentaire_etat)
            for (opco, _), d in self.dossiers.items()
            if opco is endpoint.opco
        ]
        return iter(held)

    def find_dossier_by(self, endpoint: OpcoEndpoint, field: DossierNumber, value: str) -> OpcoDossier | None:
        self.calls.append(Call(FIND_BY, endpoint.opco, endpoint.api_key, f"{field}={value}"))
        outcome = self._next(FIND_BY)
        if isinstance(outcome, BaseException):
            raise outcome
        found = (
            d
            for (opco, _), d in self.dossiers.items()
            if opco is endpoint.opco and (d.numero_externe if field == "numeroExterne" else d.numero_deca) == value
        )
        return next(found, None)

    def service_status(self, endpoint: OpcoEndpoint) -> dict[str, Any]:
        self.calls.append(Call(STATUS, endpoint.opco, endpoint.api_key, None))
        outcome = self._next(STATUS)
        if isinstance(outcome, BaseException):
            raise outcome
        if isinstance(outcome, dict):
            return outcome
        return {"status": "ok"}

    def key_info(self, endpoint: OpcoEndpoint, siren: str) -> KeyInfo:
        self.calls.append(Call(KEY_INFO, endpoint.opco, endpoint.api_key, None))
        outcome = self._next(KEY_INFO)
        if isinstance(outcome, BaseException):
            raise outcome
        if isinstance(outcome, KeyInfo):
            return outcome
        return KeyInfo(valid=True, expires_on=None, comment=None)

    def send_invoice(self, endpoint: OpcoEndpoint, invoice: OutgoingInvoice) -> SentInvoice:
        """Like a real OPCO: it numbers the invoice itself (numeroInterneFacture) and its PDF."""
        self.calls.append(Call(SEND_INVOICE, endpoint.opco, endpoint.api_key, invoice.numero, invoice=invoice))
        outcome = self._next(SEND_INVOICE)
        if isinstance(outcome, AnswerLost):
            self._store_invoice(endpoint.opco, invoice)
            raise outcome.error
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome is not _DEFAULT:
            raise TypeError(f"cannot answer an invoice POST with {outcome!r}")
        stored = self._store_invoice(endpoint.opco, invoice)
        return SentInvoice(None, None, stored.numero_interne_facture, stored.numero_interne_document)

    def find_invoice(self, endpoint: OpcoEndpoint, numero: str) -> InvoiceState | None:
        self.calls.append(Call(FIND_INVOICE, endpoint.opco, endpoint.api_key, numero))
        outcome = self._next(FIND_INVOICE)
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome is _DEFAULT:
            return self.invoices.get((endpoint.opco, numero))
        if outcome is None or isinstance(outcome, InvoiceState):
            return outcome
        raise TypeError(f"cannot answer an invoice lookup with {outcome!r}")

    def invoice_states(self, endpoint: OpcoEndpoint) -> Iterator[InvoiceState]:
        self.calls.append(Call(INVOICE_STATES, endpoint.opco, endpoint.api_key, None))
        outcome = self._next(INVOICE_STATES)
        if isinstance(outcome, BaseException):
            raise outcome
        return iter([i for (opco, _), i in self.invoices.items() if opco is endpoint.opco])

    def settle_invoice(self, opco: Opco, numero: str, etat: str, **changes: Any) -> InvoiceState:
        """The OPCO moves an invoice it holds to another state (and may pay it)."""
        invoice = replace(self.invoices[(opco, numero)], etat=etat, **changes)
        self.invoices[(opco, numero)] = invoice
        return invoice

    def invoices_created(self, numero: str) -> int:
        return sum(n for (o, num), n in self._created.items() if num == f"invoice:{numero}")

    def send_convention(self, endpoint: OpcoEndpoint, convention: OutgoingConvention) -> SentDocument:
        return self._document(SEND_CONVENTION, endpoint, convention.numero_interne_dossier, convention.file)

    def send_document(self, endpoint: OpcoEndpoint, document: OutgoingDocument) -> SentDocument:
        return self._document(SEND_DOCUMENT, endpoint, document.type_fichier, document.file)

    def send_certificat(self, endpoint: OpcoEndpoint, certificat: OutgoingCertificat) -> SentDocument:
        return self._document(SEND_CERTIFICAT, endpoint, certificat.numero_interne_dossier, certificat.file)

    def documents_received(self, content: bytes) -> int:
        """Documents with this content the OPCO stored: more than one is a duplicate at the OPCO."""
        return self._created[(Opco.AKTO, f"document:{hashlib.sha256(content).hexdigest()}")]

    def _document(self, method: str, endpoint: OpcoEndpoint, label: str, file: OutgoingFile) -> SentDocument:
        self.calls.append(Call(method, endpoint.opco, endpoint.api_key, label))
        outcome = self._next(method)
        key = (Opco.AKTO, f"document:{hashlib.sha256(file.content).hexdigest()}")  # one count, whatever the OPCO
        if isinstance(outcome, AnswerLost):
            self._created[key] += 1
            raise outcome.error
        if isinstance(outcome, BaseException):
            raise outcome
        self._created[key] += 1
        self._serial += 1
        return SentDocument({"numeroInterneDocument": f"D-{self._serial:06d}"})

    # -- internals ------------------------------------------------------------------------------------------

    def _store_invoice(self, opco: Opco, outgoing: OutgoingInvoice) -> InvoiceState:
        self._serial += 1
        self._created[(opco, f"invoice:{outgoing.numero}")] += 1
        invoice = InvoiceState(
            numero_interne_facture=f"F-{opco.value}-{self._serial:06d}",
            etat="TRANSMISE",
            numero=outgoing.numero,
            numero_interne_document=f"D-{opco.value}-{self._serial:06d}",
            montant_facture=sum((line.amount for line in outgoing.lines), Decimal("0.00")),
        )
        self.invoices[(opco, outgoing.numero)] = invoice
        return invoice

    def send_rupture(self, endpoint: OpcoEndpoint, rupture: OutgoingRupture) -> SentRupture:
        """The OPCO marks the dossier it holds RUPTU (an `AnswerLost` outcome: then its error reaches the caller)."""
        self.calls.append(Call(SEND_RUPTURE, endpoint.opco, endpoint.api_key, rupture.numero_interne, rupture=rupture))
        outcome = self._next(SEND_RUPTURE)
        if isinstance(outcome, BaseException):
            raise outcome
        held = self.dossiers.get((endpoint.opco, rupture.numero_interne))
        if held is not None:
            self.dossiers[(endpoint.opco, rupture.numero_interne)] = replace(held, etat="RUPTU")
        self.ruptures[(endpoint.opco, rupture.numero_interne)] += 1
        if isinstance(outcome, AnswerLost):
            raise outcome.error
        if isinstance(outcome, SentRupture):
            return outcome
        return SentRupture(etat="RUPTU", numero_externe=held.numero_externe if held else None)

    def _next(self, method: str) -> object:
        queue = self._script[method]
        return queue.popleft() if queue else _DEFAULT

    def _store(
        self, opco: Opco, numero: str, numero_externe: str | None = None, etat: str | None = "TRANSMIS"
    ) -> OpcoDossier:
        self._serial += 1
        self._created[(opco, numero)] += 1
        dossier = OpcoDossier(
            numero_interne=numero,
            numero_externe=numero_externe or f"{opco.value}-{self._serial:06d}",
            numero_deca=None,
            etat=etat,
            commentaire_etat=None,
            engagement=None,
        )
        self.dossiers[(opco, numero)] = dossier
        return dossier


def _paged(items: Iterable[object]) -> Iterator[DossierState]:
    for item in items:
        if isinstance(item, BaseException):
            raise item
        if not isinstance(item, DossierState):
            raise TypeError(f"not a DossierState: {item!r}")
        yield item


def opco_dossier(
    numero_interne: str,
    etat: str = "TRANSMIS",
    *,
    numero_externe: str = "EXT-1",
    numero_deca: str | None = None,
    engagement: Decimal | None = None,
    echeances: Sequence[Echeance] = (),
) -> OpcoDossier:
    return OpcoDossier(
        numero_interne=numero_interne,
        numero_externe=numero_externe,
        numero_deca=numero_deca,
        etat=etat,
        commentaire_etat=None,
        engagement=engagement,
        echeances=tuple(echeances),
    )


class MemoryContactLog:
    """A `ContactLog` in memory, with the SQL log's semantics: a success keeps the last error on record."""

    def __init__(self) -> None:
        self.contacts: dict[tuple[str, str], Contact] = {}

    def record(self, cfa_siret: str, opco: str, at: datetime, error: str | None) -> None:
        previous = self.contacts.get((cfa_siret, opco))
        if error is None:
            kept = (previous.last_error, previous.last_error_at) if previous else (None, None)
            self.contacts[(cfa_siret, opco)] = Contact(at, *kept)
        else:
            self.contacts[(cfa_siret, opco)] = Contact(at, error, at)

    def get(self, cfa_siret: str, opco: str) -> Contact | None:
        return self.contacts.get((cfa_siret, opco))


class PlainBox:
    """A reversible `SecretBox` whose sealed form never contains the clear text (for secrets that are not
    palindromes): a prefix, then the secret reversed. Counts what it opened."""

    PREFIX = "sealed:"

    def __init__(self) -> None:
        self.opened = 0

    def seal(self, secret: str) -> str:
        return self.PREFIX + secret[::-1]

    def open(self, sealed: str) -> str:
        if not sealed.startswith(self.PREFIX):
            raise ValueError(f"not sealed by this box: {sealed!r}")
        self.opened += 1
        return sealed.removeprefix(self.PREFIX)[::-1]

    def digest(self, secret: str) -> str:
        return "digest:" + hashlib.sha256(b"plain-box" + secret.encode()).hexdigest()


class MovableClock:
    """A clock that stands still until advanced. It starts at the wall-clock time because the aggregates stamp
    their events with the wall clock, and the sender compares those stamps with this clock."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return self._now.date()

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment


@dataclass(slots=True)
class _Row:
    item: QueuedTransmission
    status: QueueStatus
    due_at: datetime
    opco_state: str | None


class MemoryTransmissionsView:
    """A `TransmissionsView` in memory, with the SQL view's semantics, fed by `row_changes` through `catch_up`."""

    def __init__(self, topics: Sequence[str] = TOPICS) -> None:
        self.rows: dict[UUID, _Row] = {}
        self._positions: dict[str, int] = {}
        self._topics = topics

    def catch_up(self, app: Application[UUID]) -> int:
        """Project every event of its topics recorded since the last catch-up; the number of events projected."""
        notifications = app.recorder.select_notifications(self.position(app.name) + 1, 10_000, topics=self._topics)
        for notification in notifications:
            event = app.mapper.to_domain_event(notification)
            self.apply(row_changes(event), Tracking(app.name, notification.id))
        return len(notifications)

    def apply(self, changes: Sequence[RowChange], tracking: Tracking, previous: int | None = None) -> None:
        if tracking.notification_id <= self.position(tracking.application_name):
            raise ValueError(f"position {tracking.notification_id} already applied")
        self._positions[tracking.application_name] = tracking.notification_id
        for change in changes:
            self._apply(change)

    def position(self, application_name: str) -> int:
        return self._positions.get(application_name, 0)

    def due_accounts(self, now: datetime) -> list[tuple[str, str]]:
        return sorted({(r.item.cfa_siret, r.item.opco) for r in self._due(now)})

    def due(self, now: datetime, limit: int, cfa_siret: str, opco: str) -> list[QueuedTransmission]:
        rows = sorted(
            (r for r in self._due(now) if (r.item.cfa_siret, r.item.opco) == (cfa_siret, opco)), key=lambda r: r.due_at
        )
        return [replace(r.item, due_at=r.due_at) for r in rows[:limit]]

    def accounts_at_opcos(self) -> list[tuple[str, str]]:
        return sorted(
            {
                (r.item.cfa_siret, r.item.opco)
                for r in self.rows.values()
                if r.opco_state is not None or r.status is QueueStatus.PENDING
            }
        )

    def opco_states(self, cfa_siret: str, opco: str) -> dict[str, str | None]:
        return {
            r.item.numero_interne: r.opco_state
            for r in self.rows.values()
            if (r.item.cfa_siret, r.item.opco) == (cfa_siret, opco)
        }

    def ids_at_opco(self, cfa_siret: str, opco: str) -> dict[str, UUID]:
        return {
            r.item.numero_interne: ident
            for ident, r in self.rows.items()
            if (r.item.cfa_siret, r.item.opco) == (cfa_siret, opco)
        }

    def counts(self) -> dict[str, int]:
        return dict(Counter(r.status.value for r in self.rows.values()))

    def _due(self, now: datetime) -> list[_Row]:
        return [r for r in self.rows.values() if r.status is QueueStatus.PENDING and r.due_at <= now]

    def _apply(self, change: RowChange) -> None:
        if change.new_row is not None:
            existing = self.rows.get(change.contract_id)
            state = existing.opco_state if existing else None
            self.rows[change.contract_id] = _Row(change.new_row, QueueStatus.PENDING, change.new_row.due_at, state)
            return
        row = self.rows.get(change.contract_id)
        if row is None:
            return
        if change.status is not None:
            row.status = change.status
        if change.due_at is not None:
            row.due_at = change.due_at
        if change.opco_state is not None:
            row.opco_state = change.opco_state
        if change.numero_interne is not None:
            row.item = replace(row.item, numero_interne=change.numero_interne)


class MemoryDocumentStore:
    """A `DocumentStore` in memory, with the real one's checks of type and size."""

    def __init__(self, max_bytes: int = 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.documents: dict[str, Document] = {}

    def put(self, content: bytes) -> DocumentRef:
        ref = describe(content, self.max_bytes)
        self.documents.setdefault(ref.digest, Document(ref, content))
        return ref

    def get(self, digest: str) -> Document | None:
        return self.documents.get(digest)

    def delete(self, digest: str) -> bool:
        return self.documents.pop(digest, None) is not None


def render_plain_pdf(document: InvoiceDocument) -> bytes:
    """A stand-in for the PDF renderer: a PDF by its magic, naming the invoice's number and total."""
    return f"%PDF-1.7\n% invoice {document.number} total {document.total}\n%%EOF\n".encode()

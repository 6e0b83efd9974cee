"""The httpx client's invoice calls against the reference sandbox over loopback: send, find, states, errors.

The dossier of docs/examples/cerfa-complete.json, sent on 2026-09-01 and engaged at once: E1 = 3200.00 is open.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import httpx
import pytest

from application.opco.opco_gateway import (
    InvoiceState,
    KeyRejected,
    NotSupported,
    OpcoEndpoint,
    OpcoError,
    OutgoingInvoice,
    RefusedByOpco,
    SentInvoice,
    TransientOpcoError,
)
from domain.contracts.cerfa_document import parse_cerfa
from domain.invoicing.kinds import InvoiceKind
from domain.invoicing.lines import InvoiceLine
from domain.invoicing.transfers import Transfer
from domain.opco.opcos import Opco
from infrastructure.opco.opco_client import ClientIdentity, HttpOpcoGateway
from infrastructure.opco.opco_sandbox import SandboxConfig
from tests.integration.sandbox_server import SANDBOX_OPERATOR, ManualClock, running_sandbox, sandbox_endpoint

CFA_SIRET = "79852413800012"
START = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
IDENTITY = ClientIdentity(editeur="Convergence", logiciel="convergence", version="0.1.0")
INSTRUCTION, VALIDATION, PAYMENT = 10, 20, 30
IBAN = "FR7630006000011234567890189"
CONTRACT = UUID(int=1)
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def invoice(
    numero: str, pedagogie: str = "2400.00", restauration: str = "50.00", opco: Opco = Opco.ATLAS
) -> OutgoingInvoice:
    """Pédagogie and 20 meals on E1 of the CFA's first dossier at `opco` (numbered `<OPCO>-2026-000001` there)."""
    dossier = f"{opco.value}-2026-000001"
    lines = (
        InvoiceLine(CONTRACT, "CVG-1", dossier, 1, "E1", InvoiceKind.PEDAGOGIE, Decimal(pedagogie)),
        InvoiceLine(CONTRACT, "CVG-1", dossier, 1, None, InvoiceKind.RESTAURATION, Decimal(restauration), 20),
    )
    return OutgoingInvoice(
        numero=numero,
        issued_on=date(2026, 9, 1),
        issuer_siret=CFA_SIRET,
        iban=IBAN,
        lines=lines,
        numeros_deca={CONTRACT: None},
        pdf=PDF,
    )


class RecordingTransport(httpx.HTTPTransport):
    """A real transport that notes every request it carries."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return super().handle_request(request)

    def pages(self, path_end: str) -> list[str]:
        return [r.url.params["numeroPage"] for r in self.requests if r.url.path.endswith(path_end)]


@dataclass
class Sandbox:
    url: str
    admin: httpx.Client  # on the sandbox's root URL, for /_sandbox/*
    clock: ManualClock

    def endpoint(self, opco: Opco) -> OpcoEndpoint:
        """The CFA's endpoint at `opco`, with a new key (and the software's OAuth client where the OPCO wants it)."""
        return sandbox_endpoint(self.url, self.admin, opco, CFA_SIRET)

    def faults(self, **faults: Any) -> None:
        assert self.admin.put("/_sandbox/faults", json=faults, headers=SANDBOX_OPERATOR).status_code == 200

    def stats(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.admin.get("/_sandbox/stats", headers=SANDBOX_OPERATOR).json()
        return answer


def config(clock: ManualClock, **changes: Any) -> SandboxConfig:
    return SandboxConfig(
        clock=clock,
        instruction_delay=0,
        decision_delay=0,
        invoice_instruction_delay=INSTRUCTION,
        invoice_validation_delay=VALIDATION,
        invoice_payment_delay=PAYMENT,
        **changes,
    )


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    clock = ManualClock(START)
    with running_sandbox(config(clock)) as url, httpx.Client(base_url=url, timeout=10) as admin:
        yield Sandbox(url, admin, clock)


@pytest.fixture
def transport() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
def gateway(transport: RecordingTransport) -> Iterator[HttpOpcoGateway]:
    timeout = httpx.Timeout(connect=5.0, read=1.0, write=5.0, pool=5.0)  # the sandbox's timeouts last 5 s
    with HttpOpcoGateway(IDENTITY, transport=transport, timeout=timeout) as client:
        yield client


def engaged_dossier(gateway: HttpOpcoGateway, endpoint: OpcoEndpoint, cerfa: dict[str, Any]) -> None:
    sent = gateway.send_contract(endpoint, "CVG-1", parse_cerfa(cerfa))
    assert (sent.numero_interne, sent.numero_externe) == ("CVG-1", f"{endpoint.opco.value}-2026-000001")


@pytest.fixture
def atlas(sandbox: Sandbox, gateway: HttpOpcoGateway, complete_cerfa: dict[str, Any]) -> OpcoEndpoint:
    endpoint = sandbox.endpoint(Opco.ATLAS)
    engaged_dossier(gateway, endpoint, complete_cerfa)
    return endpoint


# --- send, find -------------------------------------------------------------------------------------------------


def test_an_invoice_is_sent_then_found_with_exact_amounts(
    sandbox: Sandbox, gateway: HttpOpcoGateway, atlas: OpcoEndpoint, transport: RecordingTransport
) -> None:
    sent = gateway.send_invoice(atlas, invoice("FAC-1"))

    assert sent == SentInvoice(
        numero_externe=None,
        etat=None,
        numero_interne_facture="FAC-ATLAS-2026-000001",
        numero_interne_document="DOC-ATLAS-2026-000001",
    )
    posted = transport.requests[-1]
    assert (posted.method, posted.url.path) == ("POST", "/opcos/ATLAS/v1/Factures")  # the SOR hosts spell it so
    assert posted.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert (posted.headers["X-API-KEY"], posted.headers["EDITEUR"]) == (atlas.api_key, "Convergence")
    assert gateway.find_invoice(atlas, "FAC-1") == InvoiceState(
        numero_interne_facture="FAC-ATLAS-2026-000001",
        etat="TRANSMISE",
        numero="FAC-1",
        numero_interne_document="DOC-ATLAS-2026-000001",
        montant_facture=Decimal("2450.00"),
        montant_regle=Decimal("0.00"),
    )
    assert dict(transport.requests[-1].url.params) == {"numero": "FAC-1"}
    assert sandbox.stats()["invoicesStored"] == {"ATLAS/FAC-1": 1}


def test_a_paid_invoice_is_found_with_its_transfer(
    sandbox: Sandbox, gateway: HttpOpcoGateway, atlas: OpcoEndpoint
) -> None:
    gateway.send_invoice(atlas, invoice("FAC-1", pedagogie="2400.05"))
    sandbox.clock.advance(INSTRUCTION + VALIDATION + PAYMENT)

    assert gateway.find_invoice(atlas, "FAC-1") == InvoiceState(
        numero_interne_facture="FAC-ATLAS-2026-000001",
        etat="REGLE",
        numero="FAC-1",
        numero_interne_document="DOC-ATLAS-2026-000001",
        montant_facture=Decimal("2450.05"),
        montant_regle=Decimal("2450.05"),
        reference_virement="VIR-ATLAS-20260901-000001",
        date_reglement=date(2026, 9, 1),
        transfers=(Transfer(Decimal("2450.05"), date(2026, 9, 1), "VIR-ATLAS-20260901-000001"),),
    )
    dossier = gateway.find_dossier(atlas, "CVG-1")
    assert dossier is not None
    e1 = dossier.echeances[0]
    assert (e1.montant_total, e1.montant_regle, e1.montant_en_cours_instruction) == (
        Decimal("3200.00"),
        Decimal("2400.05"),
        Decimal("0.00"),
    )


def test_an_invoice_paid_in_two_transfers_lists_each_of_them(
    sandbox: Sandbox, gateway: HttpOpcoGateway, atlas: OpcoEndpoint
) -> None:
    settings = {"partialPayment": True}
    assert sandbox.admin.put("/_sandbox/invoice-settings", json=settings, headers=SANDBOX_OPERATOR).status_code == 200
    gateway.send_invoice(atlas, invoice("FAC-1", pedagogie="2400.05"))
    sandbox.clock.advance(INSTRUCTION + VALIDATION + 2 * PAYMENT)  # both transfers made before this one read

    [state] = list(gateway.invoice_states(atlas))
    assert (state.etat, state.montant_regle, state.reference_virement) == (
        "REGLE",
        Decimal("2450.05"),
        "VIR-ATLAS-20260901-000001-2",
    )
    assert state.transfers == (
        Transfer(Decimal("1225.03"), date(2026, 9, 1), "VIR-ATLAS-20260901-000001-1"),
        Transfer(Decimal("1225.02"), date(2026, 9, 1), "VIR-ATLAS-20260901-000001-2"),
    )


def test_an_unknown_invoice_is_none_also_at_opco_ep(
    sandbox: Sandbox, gateway: HttpOpcoGateway, atlas: OpcoEndpoint, transport: RecordingTransport
) -> None:
    opcoep = sandbox.endpoint(Opco.OPCOEP)

    assert gateway.find_invoice(atlas, "FAC-404") is None
    assert gateway.find_invoice(opcoep, "FAC-404") is None

    answers = [(r.url.path, r.headers.get("Authorization", "")[:7]) for r in transport.requests[-2:]]
    token_path = "/opcos/OPCOEP/realms/interopco-partenaires/protocol/openid-connect/token"
    assert answers == [(token_path, ""), ("/opcos/OPCOEP/v1/factures", "Bearer ")]


def test_an_invoice_at_opco_ep_is_sent_and_found_under_oauth(
    sandbox: Sandbox, gateway: HttpOpcoGateway, complete_cerfa: dict[str, Any]
) -> None:
    opcoep = sandbox.endpoint(Opco.OPCOEP)
    engaged_dossier(gateway, opcoep, complete_cerfa)

    sent = gateway.send_invoice(opcoep, invoice("FAC-1", opco=Opco.OPCOEP))
    assert sent.numero_interne_facture == "FAC-OPCOEP-2026-000001"
    found = gateway.find_invoice(opcoep, "FAC-1")
    assert found is not None
    assert (found.numero_interne_facture, found.etat, found.montant_facture) == (
        "FAC-OPCOEP-2026-000001",
        "TRANSMISE",
        Decimal("2450.00"),
    )


# --- states -----------------------------------------------------------------------------------------------------


def test_invoice_states_are_read_page_after_page_until_the_total(
    gateway: HttpOpcoGateway, transport: RecordingTransport, complete_cerfa: dict[str, Any]
) -> None:
    clock = ManualClock(START)
    with running_sandbox(config(clock, page_size=2)) as url, httpx.Client(base_url=url) as admin:
        mobilites = Sandbox(url, admin, clock).endpoint(Opco.MOBILITES)
        engaged_dossier(gateway, mobilites, complete_cerfa)
        for number in range(1, 6):
            sent = invoice(f"FAC-{number}", pedagogie="100.00", restauration="10.00", opco=Opco.MOBILITES)
            gateway.send_invoice(mobilites, sent)
        clock.advance(INSTRUCTION)
        states = list(gateway.invoice_states(mobilites))

    assert [(s.numero, s.numero_interne_facture, s.etat, s.montant_facture) for s in states] == [
        (f"FAC-{n}", f"FAC-MOBILITES-2026-00000{n}", "EN_COURS_INSTRUCTION", Decimal("110.00")) for n in range(1, 6)
    ]
    assert states[0] == InvoiceState(
        numero_interne_facture="FAC-MOBILITES-2026-000001",
        etat="EN_COURS_INSTRUCTION",
        numero="FAC-1",
        numero_interne_document="DOC-MOBILITES-2026-000001",
        montant_facture=Decimal("110.00"),
        montant_regle=Decimal("0.00"),
    )
    assert transport.pages("/v2/factures/etats") == ["1", "2", "3"]  # 5 read: page 4 is not asked for


def test_invoice_states_of_a_refused_invoice_carry_the_comment(
    sandbox: Sandbox, gateway: HttpOpcoGateway, atlas: OpcoEndpoint
) -> None:
    gateway.send_invoice(atlas, invoice("FAC-REFUS-1"))
    sandbox.clock.advance(INSTRUCTION + VALIDATION)

    (state,) = gateway.invoice_states(atlas)

    assert (state.numero, state.numero_interne_facture, state.etat, state.montant_regle) == (
        "FAC-REFUS-1",
        "FAC-ATLAS-2026-000001",
        "REFUSEE",
        Decimal("0.00"),
    )
    assert state.commentaire == (
        "Facture refusée : motif de refus simulé par le bac à sable (numéro de facture contenant « REFUS »)"
    )


def test_no_invoice_states_at_an_opco_without_them(sandbox: Sandbox, gateway: HttpOpcoGateway) -> None:
    with pytest.raises(NotSupported, match="AFDAS GET /v2/factures/etats: not offered by this OPCO"):
        list(gateway.invoice_states(sandbox.endpoint(Opco.AFDAS)))
    with pytest.raises(NotSupported, match="COHESION_SOCIALE ne propose pas la facturation"):
        gateway.send_invoice(sandbox.endpoint(Opco.COHESION_SOCIALE), invoice("FAC-1"))


# --- errors -----------------------------------------------------------------------------------------------------


def test_a_revoked_key_is_rejected(sandbox: Sandbox, gateway: HttpOpcoGateway, atlas: OpcoEndpoint) -> None:
    assert sandbox.admin.delete(f"/_sandbox/keys/{atlas.api_key}", headers=SANDBOX_OPERATOR).status_code == 204

    with pytest.raises(KeyRejected, match="refused \\(403\\)") as rejected:
        gateway.send_invoice(atlas, invoice("FAC-1"))
    with pytest.raises(KeyRejected):
        gateway.find_invoice(atlas, "FAC-1")

    assert atlas.api_key not in str(rejected.value)
    assert sandbox.stats()["invoicePostsReceived"] == {}


def test_a_duplicate_is_a_refusal_naming_it(sandbox: Sandbox, gateway: HttpOpcoGateway, atlas: OpcoEndpoint) -> None:
    gateway.send_invoice(atlas, invoice("FAC-1", pedagogie="100.00"))

    with pytest.raises(RefusedByOpco) as refused:
        gateway.send_invoice(atlas, invoice("FAC-1", pedagogie="100.00"))

    assert refused.value.status == 409
    assert refused.value.messages == [
        "numero: Une facture de numéro FAC-1 de ce SIRET existe déjà : numéro interne FAC-ATLAS-2026-000001"
    ]
    assert sandbox.stats()["invoicesStored"] == {"ATLAS/FAC-1": 1}


@pytest.mark.parametrize("opco", [Opco.ATLAS, Opco.OPCOEP])
def test_a_broken_rule_is_a_refusal_with_the_opcos_words(
    sandbox: Sandbox, gateway: HttpOpcoGateway, complete_cerfa: dict[str, Any], opco: Opco
) -> None:
    endpoint = sandbox.endpoint(opco)
    engaged_dossier(gateway, endpoint, complete_cerfa)

    with pytest.raises(RefusedByOpco) as refused:
        gateway.send_invoice(endpoint, invoice("FAC-1", pedagogie="3200.01", restauration="60.01", opco=opco))

    dossier = f"{opco.value}-2026-000001"
    rule = f"Dossier {dossier}, échéance 1 : la pédagogie facturée (3200.01) dépasse le reste à facturer (3200.00)"
    cap = f"Dossier {dossier}, RESTAURATION : 60.01 dépasse le plafond de 3.00 € par repas × 20 = 60.00"
    assert refused.value.status == 422
    if opco is Opco.OPCOEP:  # one comment, the errors joined
        assert refused.value.messages == [f"{rule} ; {cap}"]
    else:
        assert refused.value.messages == [f"lignes[0].montant: {rule}", f"lignes[1].montant: {cap}"]


@pytest.mark.parametrize("fault", ["errorRate", "timeoutRate", "resetRate"])
def test_a_failure_after_the_store_may_have_reached_and_the_lookup_finds_it(
    sandbox: Sandbox, gateway: HttpOpcoGateway, atlas: OpcoEndpoint, fault: str
) -> None:
    sandbox.faults(**{fault: 1.0}, afterStoreShare=1.0, timeoutSeconds=5)

    with pytest.raises(TransientOpcoError) as failure:
        gateway.send_invoice(atlas, invoice("FAC-1"))
    sandbox.faults(**{fault: 0.0})

    assert failure.value.may_have_reached is True
    found = gateway.find_invoice(atlas, "FAC-1")
    assert found is not None
    assert (found.numero_interne_facture, found.etat) == ("FAC-ATLAS-2026-000001", "TRANSMISE")
    assert sandbox.stats()["invoicesStored"] == {"ATLAS/FAC-1": 1}


def test_a_5xx_before_the_store_may_have_reached_but_the_lookup_finds_nothing(
    sandbox: Sandbox, gateway: HttpOpcoGateway, atlas: OpcoEndpoint
) -> None:
    sandbox.faults(errorRate=1.0, afterStoreShare=0.0)

    with pytest.raises(TransientOpcoError) as failure:
        gateway.send_invoice(atlas, invoice("FAC-1"))
    with pytest.raises(TransientOpcoError) as read_failure:
        gateway.find_invoice(atlas, "FAC-1")
    sandbox.faults(errorRate=0.0)

    assert failure.value.may_have_reached is True  # the client cannot tell
    assert read_failure.value.may_have_reached is False  # a read changes nothing
    assert gateway.find_invoice(atlas, "FAC-1") is None
    assert gateway.send_invoice(atlas, invoice("FAC-1")).numero_interne_facture == "FAC-ATLAS-2026-000001"


def test_429_is_transient_with_its_retry_after(sandbox: Sandbox, gateway: HttpOpcoGateway, atlas: OpcoEndpoint) -> None:
    sandbox.faults(rateLimitRate=1.0, retryAfterSeconds=7, afterStoreShare=0.0)  # a 429 comes before any work

    with pytest.raises(TransientOpcoError) as failure:
        gateway.send_invoice(atlas, invoice("FAC-1"))
    with pytest.raises(TransientOpcoError) as states_failure:
        list(gateway.invoice_states(atlas))

    assert (failure.value.retry_after, failure.value.may_have_reached) == (7.0, False)
    assert states_failure.value.retry_after == 7.0
    assert sandbox.stats()["invoicePostsReceived"] == {}


# --- other OPCOs' shapes (scripted answers) ---------------------------------------------------------------------


def scripted(*answers: Any) -> HttpOpcoGateway:
    """A gateway whose every call gets the next of `answers` (JSON bodies, status 200)."""
    queue = list(answers)
    return HttpOpcoGateway(IDENTITY, transport=httpx.MockTransport(lambda _: httpx.Response(200, json=queue.pop(0))))


SCRIPTED = OpcoEndpoint(opco=Opco.AKTO, base_url="https://opco.test/ApiEchangeCFA", protocol=2, api_key="cfa-key-1234")
PAID = {
    "numero": "FAC-1",
    "numeroInterneFacture": "F-0001",
    "etatFacture": "REGLE",
    "montantFacture": 2450.1,
    "dateReglement": "05/10/2026",
}


@pytest.mark.parametrize(
    "answer",
    [PAID, [PAID], {"total": 1, "factures": [{**PAID, "numero": "FAC-0"}, PAID]}],
    ids=["object", "list", "page"],
)
def test_a_found_invoice_is_read_liberally(answer: Any) -> None:
    with scripted(answer) as gateway:
        found = gateway.find_invoice(SCRIPTED, "FAC-1")

    assert found == InvoiceState(
        numero_interne_facture="F-0001",
        etat="REGLE",
        numero="FAC-1",
        montant_facture=Decimal("2450.1"),
        date_reglement=date(2026, 10, 5),
    )  # montantRegle absent: REGLE means paid in full (the port's reading)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({**PAID, "numero": "FAC-2"}, "other invoices than FAC-1"),
        ({"numero": "FAC-1", "numeroInterneFacture": "F-1", "montantFacture": "10.00"}, "no etatFacture"),
        ({"something": "else"}, "does not say which invoice it is about"),
        ({**PAID, "montantRegle": "beaucoup"}, "unreadable amount"),
    ],
    ids=["another-invoice", "no-etat", "not-an-invoice", "bad-amount"],
)
def test_a_doubtful_answer_is_an_error_rather_than_found_or_not_found(answer: Any, message: str) -> None:
    with scripted(answer) as gateway, pytest.raises(OpcoError, match=message):
        gateway.find_invoice(SCRIPTED, "FAC-1")


@pytest.mark.parametrize("answer", [None, {}, []], ids=["null", "empty-object", "empty-list"])
def test_an_empty_answer_is_not_found(answer: Any) -> None:
    with scripted(answer) as gateway:
        assert gateway.find_invoice(SCRIPTED, "FAC-1") is None


def test_the_answer_to_a_sent_invoice_is_read_liberally() -> None:
    nested = {"facture": {"numeroInterneFacture": 42, "numeroInterneDocument": "D-7", "etatFacture": "TRANSMISE"}}
    with scripted(nested, {}) as gateway:
        assert gateway.send_invoice(SCRIPTED, invoice("FAC-1")) == SentInvoice(
            numero_externe=None, etat="TRANSMISE", numero_interne_facture="42", numero_interne_document="D-7"
        )
        assert gateway.send_invoice(SCRIPTED, invoice("FAC-2")) == SentInvoice(numero_externe=None, etat=None)


def test_invoice_states_skip_incomplete_items_and_stop_on_a_repeated_page(caplog: pytest.LogCaptureFixture) -> None:
    page = {"total": 10, "factures": [PAID, {"etatFacture": "REGLE"}]}
    with scripted(page, page) as gateway:
        states = list(gateway.invoice_states(SCRIPTED))

    assert [(s.numero_interne_facture, s.etat) for s in states] == [("F-0001", "REGLE")]
    assert "invoice state skipped" in caplog.text
    assert "page 2 repeats items already read" in caplog.text

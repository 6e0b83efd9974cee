"""The rules an invoice must meet before it is drafted (../shared/reference/apprenticeship-rules.md §2–3).

Value rules (a wrong amount, an unknown échéance) give 422; rules that depend on where the contracts stand (not yet
committed, an échéance not yet open or already held by a pending invoice) give 409. Every broken rule is listed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.contracts.contract import Contract
from domain.errors import InvalidValues, RulesConflict
from domain.invoicing.annex import engaged_amount, engaged_unit_price
from domain.invoicing.kinds import PREMIER_EQUIPEMENT_CEILING, RQTH_YEARLY_CEILING, UNIT_CEILINGS, InvoiceKind
from domain.invoicing.ledger import echeance_figures, pending_invoice, used
from domain.invoicing.lines import InvoiceLine, LineRequest
from domain.invoicing.rupture import rupture_problems
from domain.money import euros
from domain.problems import Problem

MAX_LINES = 500


class _Findings:
    def __init__(self) -> None:
        self.invalid: list[Problem] = []
        self.conflicts: list[Problem] = []

    def bad(self, field: str, code: str, message: str) -> None:
        self.invalid.append(Problem(field, code, message))

    def conflict(self, field: str, code: str, message: str) -> None:
        self.conflicts.append(Problem(field, code, message))

    def raise_any(self) -> None:
        if self.invalid:
            raise InvalidValues(self.invalid)
        if self.conflicts:
            raise RulesConflict(self.conflicts)


def check_invoice(
    requests: Sequence[LineRequest], contracts: Mapping[UUID, Contract], *, invoice_date: date, today: date
) -> list[InvoiceLine]:
    """The checked lines, or InvalidValues / RulesConflict listing every broken rule. `contracts` holds the
    contracts the caller may invoice (another CFA's are absent: unknown)."""
    findings = _Findings()
    if invoice_date > today:
        findings.bad("date", "in_future", f"the invoice date {invoice_date} is after today ({today})")
    if not requests:
        findings.bad("lines", "required", "an invoice has at least one line")
    if len(requests) > MAX_LINES:
        findings.bad("lines", "too_many", f"an invoice has at most {MAX_LINES} lines")
    _check_one_opco(requests, contracts, findings)
    lines = [_check_line(i, r, contracts, findings, today) for i, r in enumerate(requests)]
    _check_duplicates(requests, findings)
    _check_totals(requests, contracts, findings)
    invalid, conflicts = rupture_problems(requests, contracts)
    findings.invalid.extend(invalid)
    findings.conflicts.extend(conflicts)
    findings.raise_any()
    return [line for line in lines if line is not None]


def _check_line(
    index: int, request: LineRequest, contracts: Mapping[UUID, Contract], findings: _Findings, today: date
) -> InvoiceLine | None:
    at = f"lines.{index}"
    contract = contracts.get(request.contract_id)
    if contract is None:
        findings.bad(f"{at}.contractId", "unknown_contract", f"no contract {request.contract_id} in this CFA")
        return None
    if not contract.invoiceable:
        findings.conflict(
            f"{at}.contractId",
            "not_committed",
            f"contract {contract.numero_interne} is '{contract.state}': only a contract the OPCO accepted, with its"
            " échéances, can be invoiced",
        )
        return None
    echeance = _echeance(contract, request.numero_echeance)
    if echeance is None:
        numeros = ", ".join(str(e["numero"]) for e in contract.echeances)
        findings.bad(
            f"{at}.numeroEcheance",
            "unknown_echeance",
            f"contract {contract.numero_interne} has no échéance {request.numero_echeance} (it has: {numeros})",
        )
        return None
    _check_open(at, contract, echeance, findings, today)
    _check_unit_ceiling(at, request, contract, findings)
    if request.kind is InvoiceKind.MAJORATION_RQTH and not _has_rqth(contract):
        findings.bad(
            f"{at}.kind",
            "rqth_required",
            f"the RQTH majoration is for an apprentice with an RQTH: contract {contract.numero_interne}'s Cerfa does"
            " not say so (apprenti.handicap)",
        )
    return InvoiceLine(
        contract_id=contract.id,
        numero_interne=contract.numero_interne,
        numero_externe=contract.numero_externe,
        numero_echeance=request.numero_echeance,
        codification=echeance.get("codification"),
        kind=request.kind,
        amount=request.amount,
        quantity=request.quantity,
    )


def _echeance(contract: Contract, numero: int) -> dict[str, Any] | None:
    return next((e for e in contract.echeances if int(e["numero"]) == numero), None)


def _check_open(at: str, contract: Contract, echeance: dict[str, Any], findings: _Findings, today: date) -> None:
    opens = echeance.get("dateOuverture")
    if opens is not None and date.fromisoformat(opens) > today:
        findings.conflict(
            f"{at}.numeroEcheance",
            "echeance_not_open",
            f"échéance {echeance['numero']} of contract {contract.numero_interne} opens for invoicing on {opens}",
        )
    pending = pending_invoice(contract.invoices, int(echeance["numero"]))
    if pending is not None:
        findings.conflict(
            f"{at}.numeroEcheance",
            "invoice_pending",
            f"échéance {echeance['numero']} of contract {contract.numero_interne} is already on invoice {pending},"
            " not yet paid: wait for it, or cancel it",
        )


def _check_unit_ceiling(at: str, request: LineRequest, contract: Contract, findings: _Findings) -> None:
    """A night or a meal at most at the legal price, or at the OPCO's lower one where it engaged one."""
    if request.kind not in UNIT_CEILINGS:
        return
    ceiling, unit = UNIT_CEILINGS[request.kind]
    engaged = engaged_unit_price(contract.frais_annexes, request.kind)
    ceiling, whose = (engaged, " (the OPCO's price)") if engaged is not None and engaged < ceiling else (ceiling, "")
    if request.quantity is None:
        findings.bad(f"{at}.quantity", "required", f"a {request.kind} line gives its number of {unit}s (quantity)")
        return
    limit = ceiling * request.quantity
    if request.amount > limit:
        findings.bad(
            f"{at}.amount",
            "ceiling_exceeded",
            f"{request.kind}: at most {ceiling} € a {unit}{whose}, so {limit} € for {request.quantity};"
            f" {request.amount} € asked",
        )


def _check_one_opco(requests: Sequence[LineRequest], contracts: Mapping[UUID, Contract], findings: _Findings) -> None:
    opcos = {c.submitted_to for r in requests if (c := contracts.get(r.contract_id)) and c.submitted_to}
    if len(opcos) > 1:
        findings.bad(
            "lines", "several_opcos", f"an invoice goes to one OPCO; its contracts are at {', '.join(sorted(opcos))}"
        )


def _check_duplicates(requests: Sequence[LineRequest], findings: _Findings) -> None:
    seen: set[tuple[UUID, int, InvoiceKind]] = set()
    for index, request in enumerate(requests):
        key = (request.contract_id, request.numero_echeance, request.kind)
        if key in seen:
            findings.bad(
                f"lines.{index}", "duplicate_line", "one line per contract, échéance and kind: add the amounts up"
            )
        seen.add(key)


def _check_totals(requests: Sequence[LineRequest], contracts: Mapping[UUID, Contract], findings: _Findings) -> None:
    """Amounts against what remains: per échéance for the pedagogical cost, per contract for the annex costs."""
    asked: dict[tuple[UUID, int], Decimal] = {}
    annex: dict[tuple[UUID, InvoiceKind], Decimal] = {}
    for request in requests:
        if request.kind is InvoiceKind.PEDAGOGIE:
            key = (request.contract_id, request.numero_echeance)
            asked[key] = asked.get(key, Decimal("0")) + request.amount
        else:
            kind_key = (request.contract_id, request.kind)
            annex[kind_key] = annex.get(kind_key, Decimal("0")) + request.amount
    for (ident, numero), amount in asked.items():
        _check_remaining(ident, numero, amount, requests, contracts, findings)
    for (ident, kind), amount in annex.items():
        contract = contracts.get(ident)
        ceiling = _contract_ceiling(contract, kind) if contract is not None else None
        if contract is None or ceiling is None:
            continue
        already = used(contract.invoices, kind)
        if already + amount > ceiling[0]:
            findings.bad(
                _field_of(requests, ident, None, kind),
                "ceiling_exceeded",
                f"{kind}: at most {ceiling[0]} € per contract here ({ceiling[1]}); {already} € already invoiced"
                f" on {contract.numero_interne}, {amount} € asked",
            )


def _contract_ceiling(contract: Contract, kind: InvoiceKind) -> tuple[Decimal, str] | None:
    """What a kind of annex cost may amount to over the contract, and whose ceiling that is: the OPCO's engagement
    (engagementsFraisAnnexe), and for first equipment also the legal 500 € and the OPCO's plafond."""
    candidates: list[tuple[Decimal, str]] = []
    if kind is InvoiceKind.PREMIER_EQUIPEMENT:
        candidates.append((PREMIER_EQUIPEMENT_CEILING, "the legal ceiling"))
        if contract.premier_equipement_ceiling is not None:
            candidates.append((euros(contract.premier_equipement_ceiling), "the OPCO's plafond"))
    if kind is InvoiceKind.MAJORATION_RQTH and (years := _contract_years(contract)) is not None:
        candidates.append((RQTH_YEARLY_CEILING * years, f"{RQTH_YEARLY_CEILING} € a year, {years} year(s)"))
    engaged = engaged_amount(contract.frais_annexes, kind)
    if engaged is not None:
        candidates.append((engaged, "engaged by the OPCO"))
    return min(candidates, key=lambda candidate: candidate[0]) if candidates else None


def _has_rqth(contract: Contract) -> bool:
    apprenti = contract.cerfa_model.apprenti
    return bool(apprenti and apprenti.handicap)


def _contract_years(contract: Contract) -> int | None:
    """The contract's years, each started year counted whole; None without its dates."""
    contrat = contract.cerfa_model.contrat
    start, end = (contrat.dateDebutContrat, contrat.dateFinContrat) if contrat else (None, None)
    if start is None or end is None or end < start:
        return None
    months = (end.year - start.year) * 12 + end.month - start.month + (end.day >= start.day)
    return max(1, -(-months // 12))


def _check_remaining(
    ident: UUID,
    numero: int,
    amount: Decimal,
    requests: Sequence[LineRequest],
    contracts: Mapping[UUID, Contract],
    findings: _Findings,
) -> None:
    contract = contracts.get(ident)
    echeance = _echeance(contract, numero) if contract is not None and contract.invoiceable else None
    if contract is None or echeance is None:
        return
    figures = echeance_figures(echeance, contract.invoices)
    if amount > figures["remaining"]:
        findings.bad(
            _field_of(requests, ident, numero, InvoiceKind.PEDAGOGIE),
            "amount_exceeds_remaining",
            f"échéance {numero} of contract {contract.numero_interne}: {figures['remaining']} € remain to invoice"
            f" (total {figures['total']} €, settled before {figures['settledAtCommitment']} €, invoiced"
            f" {figures['invoiced']} €); {amount} € asked",
        )


def _field_of(requests: Sequence[LineRequest], ident: UUID, numero: int | None, kind: InvoiceKind) -> str:
    for index, request in enumerate(requests):
        if request.contract_id == ident and request.kind is kind and numero in (None, request.numero_echeance):
            return f"lines.{index}.amount"
    return "lines"

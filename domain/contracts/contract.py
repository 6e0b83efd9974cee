"""The apprenticeship contract dossier: an event-sourced aggregate whose events are the only source of truth."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.cerfa import Cerfa
from domain.cerfa.personal import CERFA_PERSONAL_FIELDS, SIGNATORY_PERSONAL_FIELDS, without_personal
from domain.contracts.cerfa_document import cfa_siret as cerfa_cfa_siret
from domain.contracts.cerfa_document import employer_idcc, parse_cerfa
from domain.contracts.contract_import import ImportRecord
from domain.contracts.contract_state import DRAFT_STATES, ContractState
from domain.contracts.submission import submission_problems
from domain.copying import CopiedByPickle
from domain.errors import InvalidValue, NotAllowedInState, SubmissionBlocked
from domain.ids import named_id
from domain.invoicing.ledger import new_entry
from domain.merge_patch import apply_merge_patch, merge_diff
from domain.money import euros, money_text
from domain.opco.opco_lookup import LOOKUP_FIELDS, looked_up_opco
from domain.opco.opcos import IdccRouting, Opco
from domain.opco.transmission import (
    OPCO_STATES,
    attempt_ended,
    new_transmission,
)
from domain.opco.transmission_commands import (
    TransmissionCommands,
    TransmissionFailedEvent,
    TransmissionParkedEvent,
    TransmissionResumedEvent,
    TransmissionStartedEvent,
)
from domain.problems import Problem
from domain.ruptures.rupture import RuptureFacts, check_traineeship

# A rupture goes to an OPCO that has the dossier (sent, in review, accepted); one the OPCO already shows broken
# (the employer told it) is recorded for its effects, and not sent.
RUPTURE_ALLOWED = frozenset(
    {ContractState.SENT, ContractState.IN_REVIEW, ContractState.ACCEPTED, ContractState.TERMINATED}
)


def contract_id(cfa_siret: str, numero_interne: str) -> UUID:
    """Ids derive from the CFA's own reference, so a second dossier with that reference cannot be stored."""
    return named_id("cfas", cfa_siret, "contracts", numero_interne)


SENT = "sent"  # made here, to be sent by Convergence (the dossier's `origin`)
IMPORTED = "imported"  # deposited at the OPCO some other way, imported from it (domain.contracts.contract_import)


class Contract(CopiedByPickle, TransmissionCommands, Aggregate):
    origin = SENT  # IMPORTED for a dossier whose first event is `Imported` (a class default: no event changes it)
    import_run: str | None = None  # the import that created it (`Imported`), else None
    personal_data_erased_at: datetime | None = None  # set by PersonalDataErased (docs/privacy.md)

    @staticmethod
    def create_id(cfa_siret: str, numero_interne: str) -> UUID:
        return contract_id(cfa_siret, numero_interne)

    @classmethod
    def draft(cls, *, cfa_siret: str, numero_interne: str, cerfa: Cerfa, opco: Opco | None, actor: str) -> Contract:
        _check_cfa(cerfa, cfa_siret)
        return cls(
            cfa_siret=cfa_siret,
            numero_interne=numero_interne,
            cerfa=cerfa.to_document(),
            opco=opco.value if opco else None,
            actor=actor,
        )

    @classmethod
    def imported(cls, *, cfa_siret: str, numero_interne: str, record: ImportRecord, actor: str) -> Contract:
        """A dossier deposited at an OPCO some other way (its portal, the employer), as the OPCO holds it: it needs
        no mandate (the mandate concerns depositing it) and the OPCO's word counts for it from its first event."""
        return cls._create(
            cls.Imported,
            id=cls.create_imported_id(cfa_siret, record.opco, record.opco_key),
            cfa_siret=cfa_siret,
            numero_interne=numero_interne,
            cerfa=dict(record.cerfa),
            opco=record.opco,
            actor=actor,
            import_run=record.import_run,
            numero_externe=record.numero_externe,
            opco_numero_interne=record.numero_interne,
            numero_deca=record.numero_deca,
            etat=record.etat,
            commentaire=record.commentaire,
        )

    @staticmethod
    def create_imported_id(cfa_siret: str, opco: str, opco_key: str) -> UUID:
        """From the OPCO's own number of the dossier: importing it again, or resuming an import, collides."""
        return named_id("cfas", cfa_siret, "imported", opco, opco_key)

    @event("Drafted")
    def __init__(
        self, cfa_siret: str, numero_interne: str, cerfa: dict[str, Any], opco: str | None, actor: str
    ) -> None:
        self.cfa_siret = cfa_siret
        self.numero_interne = numero_interne
        self.cerfa = cerfa
        self.opco_choice = opco
        self.mandate: dict[str, Any] | None = None
        self.state = ContractState.DRAFTED
        self.submitted_to: str | None = None
        self.transmission = new_transmission()
        self.numero_externe: str | None = None
        self.opco_numero_interne: str | None = None  # the numeroInterne the OPCO answered with: ours, or its own
        self.numero_deca: str | None = None
        self.opco_state: str | None = None  # the OPCO's `etat`, verbatim, even when unknown to us
        self.opco_comment: str | None = None
        self.commitment: str | None = None  # euros, as a decimal string
        self.echeances: list[dict[str, Any]] = []
        self.premier_equipement_ceiling: str | None = None  # the OPCO's, where it gives one (euros)
        self.frais_annexes: list[dict[str, Any]] = []  # the OPCO's engagementsFraisAnnexe (domain.invoicing.annex)
        self.npec_forecast: str | None = None  # the CFA's forecast of the annual NPEC, euros as a decimal string
        self.invoices: dict[str, dict[str, Any]] = {}  # invoice id → its lines on this contract (ledger.py)
        self.opco_lookup: dict[str, Any] | None = None  # the employer's OPCO as a lookup by SIRET answered
        self.rupture: dict[str, Any] | None = (
            None  # the rupture declared (domain.ruptures.rupture), with its termination id
        )
        self.ruptures_declared = 0  # numbers each rupture's Termination, withdrawn ones included
        self.amendments_requested = 0  # numbers each avenant (domain.amendments.amendment), withdrawn ones included
        self.traineeship: dict[str, Any] | None = None  # L6222-18-2: the apprentice goes on at the CFA as a trainee

    # -- commands -------------------------------------------------------------------------------------------

    def replace_cerfa(self, cerfa: Cerfa, actor: str) -> None:
        self._require_draft("replace the Cerfa of")
        _check_cfa(cerfa, self.cfa_siret)
        document = cerfa.to_document()
        if document != self.cerfa:
            self._cerfa_replaced(cerfa=document, actor=actor)

    def patch_cerfa(self, patch: dict[str, Any], actor: str) -> None:
        self._require_draft("change the Cerfa of")
        cerfa = parse_cerfa(apply_merge_patch(self.cerfa, patch))
        _check_cfa(cerfa, self.cfa_siret)
        changes = merge_diff(self.cerfa, cerfa.to_document())
        if changes:
            self._cerfa_patched(changes=changes, actor=actor)

    def record_opco_lookup(self, lookup: Mapping[str, Any], actor: str) -> None:
        """What a lookup of the employer's OPCO by SIRET answered (domain.opco.opco_lookup.LOOKUP_FIELDS); nothing
        is recorded when it says again what the last one said of that SIRET."""
        self._require_draft("record the OPCO lookup of")
        current = self.opco_lookup
        if current is None or any(current[key] != lookup[key] for key in ("siret", "outcome", "opco")):
            self._opco_looked_up(lookup={key: lookup[key] for key in LOOKUP_FIELDS}, actor=actor)

    def choose_opco(self, opco: Opco | None, actor: str) -> None:
        self._require_draft("choose the OPCO of")
        chosen = opco.value if opco else None
        if chosen != self.opco_choice:
            self._opco_chosen(opco=chosen, actor=actor)

    def record_mandate(
        self,
        *,
        signed_on: date,
        signatory: dict[str, str],
        document_sha256: str | None,
        actor: str,
        today: date,
    ) -> None:
        """The mandate already recorded, sent again, changes nothing (in any state): a retry is harmless."""
        if self.mandate is not None and not self.has_other_mandate(signed_on, signatory, document_sha256):
            return
        self._require_draft("record the mandate of")
        if signed_on > today:
            raise InvalidValue("signedOn", "in_future", f"the mandate cannot be signed in the future ({signed_on})")
        self._mandate_recorded(
            signed_on=signed_on, signatory=dict(signatory), document_sha256=document_sha256, actor=actor
        )

    def has_other_mandate(self, signed_on: date, signatory: dict[str, str], document_sha256: str | None) -> bool:
        """Whether a mandate other than this one is recorded (who recorded it does not make it another)."""
        if self.mandate is None:
            return False
        recorded = (self.mandate["signedOn"], self.mandate["signatory"], self.mandate["documentSha256"])
        return recorded != (signed_on, dict(signatory), document_sha256)

    def submit(self, routing: IdccRouting, actor: str) -> None:
        self._require_draft("submit")
        problems = self.problems(routing)
        if problems:
            raise SubmissionBlocked(problems)
        opco = self.effective_opco(routing)
        assert opco is not None  # no problem left means the OPCO is known
        self._submission_requested(
            opco=opco.value, cfa_siret=self.cfa_siret, numero_interne=self.numero_interne, actor=actor
        )

    def cancel(self, reason: str | None, actor: str) -> None:
        self._require_draft("cancel")
        self._cancelled(reason=reason, actor=actor)

    # -- transmission and the OPCO's answers --------------------------------------------------------------

    def start_transmission(self, actor: str) -> int:
        """Record that an attempt begins, before the call: a crash after it leaves the attempt in flight."""
        self._require_state("send", frozenset({ContractState.SUBMITTED}))
        if self.transmission["parked"]:
            raise NotAllowedInState("send", "parked", frozenset({"submitted, not parked"}))
        attempt = int(self.transmission["attempts"]) + 1
        self.trigger_event(self.TransmissionStarted, attempt=attempt, actor=actor)
        return attempt

    def record_sent(
        self,
        *,
        numero_externe: str | None,
        etat: str | None,
        found_by_lookup: bool,
        actor: str,
        opco_numero_interne: str | None = None,
        sent_sha256: str | None = None,
        answer_sha256: str | None = None,
    ) -> None:
        """`opco_numero_interne`: the numeroInterne the OPCO keeps the dossier under, as it answered; `sent_sha256`
        and `answer_sha256`: the digests of the body sent and of the OPCO's answer (None when found by a lookup)."""
        self._require_state("record the sending of", frozenset({ContractState.SUBMITTED}))
        self.trigger_event(
            self.Sent,
            numero_externe=numero_externe,
            etat=etat,
            found_by_lookup=found_by_lookup,
            opco_numero_interne=opco_numero_interne,
            sent_sha256=sent_sha256,
            answer_sha256=answer_sha256,
            actor=actor,
        )

    def record_opco_state(
        self,
        *,
        etat: str,
        commentaire: str | None,
        numero_externe: str | None,
        numero_deca: str | None,
        actor: str,
    ) -> None:
        """A state read from the OPCO. Also heals a dossier whose sending outcome was lost: the OPCO has it."""
        self._require_sent_for("record an OPCO state of")
        known = (self.opco_state, self.opco_comment, self.numero_externe, self.numero_deca)
        incoming = (etat, commentaire, numero_externe or self.numero_externe, numero_deca or self.numero_deca)
        if incoming != known:
            self.trigger_event(
                self.OpcoStateChanged,
                etat=etat,
                commentaire=commentaire,
                numero_externe=numero_externe,
                numero_deca=numero_deca,
                actor=actor,
            )

    def record_commitment(
        self,
        *,
        engagement: str | None,
        echeances: list[dict[str, Any]],
        actor: str,
        premier_equipement_ceiling: str | None = None,
        frais_annexes: list[dict[str, Any]] | None = None,
    ) -> None:
        """The OPCO's funding commitment, instalment schedule, first-equipment ceiling and the annex costs it engaged
        (records of `domain.invoicing.annex`), read when it accepts the dossier."""
        self._require_sent_for("record the commitment of")
        if self.state is ContractState.SUBMITTED:
            raise NotAllowedInState("record the commitment of", self.state, frozenset({"at the OPCO"}))
        annex = frais_annexes or []
        incoming = (engagement, echeances, premier_equipement_ceiling, annex)
        if incoming != (self.commitment, self.echeances, self.premier_equipement_ceiling, self.frais_annexes):
            self.trigger_event(
                self.FundingCommitted,
                engagement=engagement,
                echeances=echeances,
                premier_equipement_ceiling=premier_equipement_ceiling,
                frais_annexes=annex,
                actor=actor,
            )

    # -- funding and invoices ---------------------------------------------------------------------------------

    def forecast_npec(self, npec: Decimal | None, actor: str) -> None:
        """The CFA's forecast of the annual NPEC, for the funding schedule until the OPCO commits (null clears it)."""
        if npec is not None and npec <= 0:
            raise InvalidValue("npec", "not_positive", f"the NPEC must be a positive amount, not {npec}")
        value = None if npec is None else money_text(euros(npec))
        if value != self.npec_forecast:
            self._npec_forecast(npec=value, actor=actor)

    @property
    def invoiceable(self) -> bool:
        """The OPCO committed to fund it: its échéances may be invoiced (also after a termination, for what is due)."""
        return bool(self.echeances) and self.state in (ContractState.ACCEPTED, ContractState.TERMINATED)

    def attach_invoice(
        self, invoice_id: str, numero_interne_facture: str, lines: list[dict[str, Any]], actor: str
    ) -> None:
        """Book an invoice's lines on this contract; the rules were checked against this very version."""
        if not self.invoiceable:
            raise NotAllowedInState("invoice", self.state, frozenset({"accepted", "terminated"}))
        self._invoice_attached(
            invoice_id=invoice_id, numero_interne_facture=numero_interne_facture, lines=lines, actor=actor
        )

    def release_invoice(self, invoice_id: str, reason: str, actor: str) -> None:
        """A refused or cancelled invoice no longer counts against the échéances."""
        entry = self.invoices.get(invoice_id)
        if entry is not None and entry["released"] is None:
            self._invoice_released(invoice_id=invoice_id, reason=reason, actor=actor)

    def record_invoice_payment(self, invoice_id: str, paid: list[str], actor: str) -> None:
        """What the OPCO paid on each of this contract's lines of the invoice, cumulated."""
        entry = self.invoices.get(invoice_id)
        if entry is not None and entry["paid"] != paid:
            self._invoice_paid(invoice_id=invoice_id, paid=paid, actor=actor)

    @property
    def opco_reference(self) -> str:
        """The numeroInterne the OPCO knows this dossier by: its own where it assigned one, else ours."""
        return self.opco_numero_interne or self.numero_interne

    @property
    def unknown_opco_state(self) -> bool:
        return self.opco_state is not None and self.opco_state not in OPCO_STATES

    # -- avenants (their rules and their way to the OPCO: domain.amendments) -------------------------------------

    def require_amendable(self) -> None:
        """An avenant amends a contract the OPCO accepted (it names its DECA number), and not one broken."""
        self._require_state("amend", frozenset({ContractState.ACCEPTED}))
        if self.rupture is not None:
            raise NotAllowedInState("amend", "rupture declared", frozenset({"no rupture declared"}))

    def request_amendment(self, number: int, amendment_id: UUID, type_code: int, actor: str) -> None:
        """The contract's record of its avenant `number` (the avenant's facts are on its own aggregate)."""
        self.require_amendable()
        self._amendment_requested(number=number, amendment_id=str(amendment_id), type_code=type_code, actor=actor)

    # -- rupture (the rules: domain.ruptures.rupture; its way to the OPCO: domain.ruptures.termination) ----------------

    def require_terminable(self) -> None:
        """Only a dossier the OPCO has, and only one rupture at a time (withdraw it to declare another)."""
        self._require_state("terminate", RUPTURE_ALLOWED)
        if self.rupture is not None:
            raise NotAllowedInState("terminate", "rupture declared", frozenset({"no rupture declared"}))

    def declare_rupture(self, facts: RuptureFacts, termination_id: UUID, actor: str) -> None:
        self.require_terminable()
        record = {**facts.as_record(), "terminationId": str(termination_id)}
        self._rupture_declared(rupture=record, actor=actor)

    def withdraw_rupture(self, reason: str | None, actor: str) -> None:
        if self.rupture is None:
            raise NotAllowedInState("withdraw the rupture of", "no rupture declared", frozenset({"rupture declared"}))
        self._rupture_withdrawn(reason=reason, actor=actor)

    def record_traineeship(self, start: date, end: date, actor: str) -> None:
        """The apprentice goes on at the CFA as a trainee (L6222-18-2) after the rupture, for at most 6 months."""
        if self.rupture is None:
            raise NotAllowedInState("record a traineeship on", self.state, frozenset({"rupture declared"}))
        check_traineeship(date.fromisoformat(self.rupture["dateEffetRupture"]), start, end)
        if self.traineeship != {"debut": start.isoformat(), "fin": end.isoformat()}:
            self._traineeship_recorded(start=start, end=end, actor=actor)

    @property
    def rupture_date(self) -> date | None:
        return date.fromisoformat(self.rupture["dateEffetRupture"]) if self.rupture else None

    # -- queries --------------------------------------------------------------------------------------------

    @property
    def cerfa_model(self) -> Cerfa:
        return parse_cerfa(self.cerfa)

    def routed_opco(self, routing: IdccRouting) -> Opco | None:
        return routing.opco_for(employer_idcc(self.cerfa_model))

    def effective_opco(self, routing: IdccRouting) -> Opco | None:
        if self.submitted_to:
            return Opco(self.submitted_to)
        return self.decided_opco() or self.routed_opco(routing)

    def decided_opco(self) -> Opco | None:
        """The OPCO decided otherwise than by the IDCC table: the CFA's choice, else the lookup's answer."""
        if self.opco_choice:
            return Opco(self.opco_choice)
        return looked_up_opco(self.opco_lookup, self.cerfa)

    def problems(self, routing: IdccRouting, cerfa: Cerfa | None = None) -> list[Problem]:
        """Blocking problems, derived from the events so far; empty for a dossier past its draft.
        `cerfa` spares a second parse to a caller that already holds this dossier's parsed Cerfa."""
        if self.state not in DRAFT_STATES:
            return []
        return submission_problems(
            cerfa or self.cerfa_model,
            chosen_opco=self.decided_opco(),
            routing=routing,
            has_mandate=self.mandate is not None,
        )

    def _require_submitted(self, action: str) -> None:
        self._require_state(action, frozenset({ContractState.SUBMITTED}))

    # -- events ---------------------------------------------------------------------------------------------

    @event("CerfaReplaced")
    def _cerfa_replaced(self, cerfa: dict[str, Any], actor: str) -> None:
        self.cerfa = cerfa

    @event("CerfaPatched")
    def _cerfa_patched(self, changes: dict[str, Any], actor: str) -> None:
        self.cerfa = apply_merge_patch(self.cerfa, changes)

    @event("OpcoLookedUp")
    def _opco_looked_up(self, lookup: dict[str, Any], actor: str) -> None:
        self.opco_lookup = lookup

    @event("OpcoChosen")
    def _opco_chosen(self, opco: str | None, actor: str) -> None:
        self.opco_choice = opco

    @event("MandateRecorded")
    def _mandate_recorded(
        self, signed_on: date, signatory: dict[str, str], document_sha256: str | None, actor: str
    ) -> None:
        self.mandate = {
            "signedOn": signed_on,
            "signatory": signatory,
            "documentSha256": document_sha256,
            "recordedBy": actor,
        }
        self.state = ContractState.MANDATE_CHECKED

    @event("SubmissionRequested")
    def _submission_requested(self, opco: str, cfa_siret: str, numero_interne: str, actor: str) -> None:
        # cfa_siret and numero_interne name the dossier for the transmission queue, which reads only this event
        self.submitted_to = opco
        self.state = ContractState.SUBMITTED

    @event("Cancelled")
    def _cancelled(self, reason: str | None, actor: str) -> None:
        self.state = ContractState.CANCELLED

    @event("NpecForecast")
    def _npec_forecast(self, npec: str | None, actor: str) -> None:
        self.npec_forecast = npec

    @event("InvoiceAttached")
    def _invoice_attached(
        self, invoice_id: str, numero_interne_facture: str, lines: list[dict[str, Any]], actor: str
    ) -> None:
        self.invoices[invoice_id] = new_entry(numero_interne_facture, lines)

    @event("InvoiceReleased")
    def _invoice_released(self, invoice_id: str, reason: str, actor: str) -> None:
        self.invoices[invoice_id]["released"] = reason

    @event("InvoicePaid")
    def _invoice_paid(self, invoice_id: str, paid: list[str], actor: str) -> None:
        self.invoices[invoice_id]["paid"] = list(paid)

    @event("RuptureDeclared")
    def _rupture_declared(self, rupture: dict[str, Any], actor: str) -> None:
        self.rupture = rupture
        self.ruptures_declared += 1

    @event("RuptureWithdrawn")
    def _rupture_withdrawn(self, reason: str | None, actor: str) -> None:
        self.rupture = None
        self.traineeship = None

    @event("AmendmentRequested")
    def _amendment_requested(self, number: int, amendment_id: str, type_code: int, actor: str) -> None:
        self.amendments_requested = number

    @event("TraineeshipRecorded")
    def _traineeship_recorded(self, start: date, end: date, actor: str) -> None:
        self.traineeship = {"debut": start.isoformat(), "fin": end.isoformat()}

    def erase_personal_data(self, actor: str) -> bool:
        """Forget the apprentice's and the maîtres' personal data (domain.cerfa.personal), once, in any state;
        whether this call recorded it. The events keep them sealed under the dossier's data key, which the
        application destroys: from then on they read as absent, and the dossier can no longer change them."""
        if self.personal_data_erased_at is not None:
            return False
        self.trigger_event(self.PersonalDataErased, actor=actor)
        return True

    def _require_draft(self, action: str) -> None:
        if self.personal_data_erased_at is not None:
            raise NotAllowedInState(action, "personal_data_erased", frozenset(s.value for s in DRAFT_STATES))
        self._require_state(action, DRAFT_STATES)

    def _require_sent_for(self, action: str) -> None:
        """The OPCO's word counts for every dossier submitted to it, whatever it said before (a terminated
        contract is later settled, SOLDE); never for a draft, nor for a draft cancelled by the CFA."""
        if self.submitted_to is None:
            raise NotAllowedInState(action, self.state, frozenset({"submitted to an OPCO"}))

    def _require_state(self, action: str, allowed: frozenset[ContractState]) -> None:
        if self.state not in allowed:
            raise NotAllowedInState(action, self.state, frozenset(s.value for s in allowed))

    # Transmission events are declared as classes: their `apply` needs the event's own timestamp.

    class TransmissionStarted(TransmissionStartedEvent):
        """An attempt to send it began."""

    class Sent(Aggregate.Event):
        numero_externe: str | None
        etat: str | None
        found_by_lookup: bool
        opco_numero_interne: str | None
        sent_sha256: str | None
        answer_sha256: str | None
        actor: str

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["opco_numero_interne"] = None  # the OPCO's answer was not kept before version 2

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["sent_sha256"] = state["answer_sha256"] = None  # the exchange's digests were not kept before v3

        def apply(self, aggregate: Any) -> None:
            attempt_ended(aggregate.transmission, "found" if self.found_by_lookup else "sent", self.timestamp)
            aggregate.numero_externe = self.numero_externe
            aggregate.opco_numero_interne = self.opco_numero_interne
            aggregate.opco_state = self.etat
            aggregate.state = OPCO_STATES.get(self.etat or "", ContractState.SENT)

    class TransmissionFailed(TransmissionFailedEvent):
        """An attempt failed; `transient`: worth another, at `retry_at`."""

    class TransmissionParked(TransmissionParkedEvent):
        """No more attempts until a person resumes them."""

    class TransmissionResumed(TransmissionResumedEvent):
        """A person resumed the attempts."""

    class RefusedOnTransmission(Aggregate.Event):
        messages: list[str]
        actor: str

        def apply(self, aggregate: Any) -> None:
            attempt_ended(aggregate.transmission, "refused", self.timestamp, "; ".join(self.messages))
            aggregate.opco_comment = "; ".join(self.messages)
            aggregate.state = ContractState.REFUSED

    class OpcoStateChanged(Aggregate.Event):
        etat: str
        commentaire: str | None
        numero_externe: str | None
        numero_deca: str | None
        actor: str

        def apply(self, aggregate: Any) -> None:
            if aggregate.transmission["inFlightSince"] is not None:
                attempt_ended(aggregate.transmission, "found", self.timestamp)
            aggregate.opco_state = self.etat
            aggregate.opco_comment = self.commentaire
            aggregate.numero_externe = self.numero_externe or aggregate.numero_externe
            aggregate.numero_deca = self.numero_deca or aggregate.numero_deca
            fallback = ContractState.SENT if aggregate.state is ContractState.SUBMITTED else aggregate.state
            aggregate.state = OPCO_STATES.get(self.etat, fallback)

    class Imported(Aggregate.Created):
        """The first event of a dossier imported from an OPCO: which OPCO, its numbers, its state, its Cerfa as the
        OPCO holds it (who and when: `actor` and the event's timestamp; the commitment follows as FundingCommitted).
        Its fields named as Drafted's are given to `__init__`; `apply` does the rest."""

        cfa_siret: str
        numero_interne: str
        cerfa: dict[str, Any]
        opco: str
        actor: str
        import_run: str
        numero_externe: str | None
        opco_numero_interne: str | None
        numero_deca: str | None
        etat: str | None
        commentaire: str | None

        def apply(self, aggregate: Any) -> None:
            aggregate.origin = IMPORTED
            aggregate.import_run = self.import_run
            aggregate.submitted_to = self.opco
            aggregate.numero_externe = self.numero_externe
            aggregate.opco_numero_interne = self.opco_numero_interne
            aggregate.numero_deca = self.numero_deca
            aggregate.opco_state = self.etat
            aggregate.opco_comment = self.commentaire
            aggregate.state = OPCO_STATES.get(self.etat or "", ContractState.SENT)

    class PersonalDataErased(Aggregate.Event):
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.cerfa = without_personal(aggregate.cerfa, CERFA_PERSONAL_FIELDS)
            if aggregate.mandate is not None:
                signatory = without_personal(aggregate.mandate["signatory"], SIGNATORY_PERSONAL_FIELDS)
                aggregate.mandate = {**aggregate.mandate, "signatory": signatory}
            aggregate.personal_data_erased_at = self.timestamp

    class FundingCommitted(Aggregate.Event):
        engagement: str | None
        echeances: list[dict[str, Any]]
        premier_equipement_ceiling: str | None
        frais_annexes: list[dict[str, Any]]
        actor: str

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["premier_equipement_ceiling"] = None  # not read from the OPCO before version 2

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["frais_annexes"] = []  # engagementsFraisAnnexe not read before version 3

        def apply(self, aggregate: Any) -> None:
            aggregate.commitment = self.engagement
            aggregate.echeances = self.echeances
            aggregate.premier_equipement_ceiling = self.premier_equipement_ceiling
            aggregate.frais_annexes = self.frais_annexes


def _check_cfa(cerfa: Cerfa, owner: str) -> None:
    siret = cerfa_cfa_siret(cerfa)
    if siret is not None and siret != owner:
        raise InvalidValue(
            "cerfa.organismeFormation.siret",
            "other_cfa",
            f"the dossier belongs to the CFA {owner}; organismeFormation.siret {siret} is another CFA",
        )

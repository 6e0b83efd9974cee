"""An avenant's way to the OPCO and back: its channel for the shared sender (application.opco.sender) and the state
sync that follows it.

It leaves as a dossier (`POST /dossiers`, opco-wire.md §2.1) under a numeroInterne of its own
(`{contract}-AV{n}`), so the sender's lookup before a re-send (`GET /dossiers?numeroInterne=`) finds it exactly as it
finds a contract: exactly once through timeouts and crashes. Its queue is the contracts' read model, fed by the
Amendment events of the same names; a row's id is the Amendment's, its number the one the OPCO knows it by (the
contract's own where the OPCO answers by updating the first dossier)."""

from __future__ import annotations

import logging
from uuid import UUID

from application.access.access import WORKER
from application.amendments.amendments import Amendments
from application.errors import ApplicationError
from application.opco.channels import Command
from application.opco.opco_accounts import OpcoAccounts
from application.opco.opco_gateway import ENGAGE, DossierState, OpcoEndpoint, OpcoError, OpcoGateway, SentDossier
from application.opco.transmissions import TransmissionsView, queue_topics
from application.ports import FanOut, one_at_a_time
from domain.amendments.amendment import Amendment
from domain.cerfa import Cerfa
from domain.contracts.cerfa_document import parse_cerfa
from domain.errors import DomainError
from domain.opco.opcos import Opco

log = logging.getLogger("convergence.amendments")
AMENDMENT_TOPICS = queue_topics(Amendment)


class AmendmentChannel:
    kind = "avenant"

    def __init__(self, amendments: Amendments, gateway: OpcoGateway) -> None:
        self._amendments = amendments
        self._gateway = gateway

    def load(self, ident: UUID) -> Amendment:
        return self._amendments.amendment_as_worker(ident)

    def change(self, ident: UUID, command: Command) -> None:
        self._amendments.change_as_worker(ident, command)

    def change_loaded(self, item: Amendment, command: Command) -> Amendment:
        return self._amendments.change_loaded_as_worker(item, command)

    def start(self, item: Amendment) -> Command:
        return lambda amendment: amendment.start_transmission(WORKER.actor)

    def send(self, endpoint: OpcoEndpoint, item: Amendment) -> SentDossier:
        return self._gateway.send_contract(endpoint, item.numero_interne, outgoing_cerfa(item))

    def record_sent(self, answer: SentDossier) -> Command:
        def sent(amendment: Amendment) -> None:
            amendment.record_sent(
                numero_externe=answer.numero_externe,
                etat=answer.etat,
                found_by_lookup=False,
                opco_numero_interne=answer.numero_interne,
                sent_sha256=answer.sent_sha256,
                answer_sha256=answer.answer_sha256,
                actor=WORKER.actor,
            )

        return sent

    def find(self, endpoint: OpcoEndpoint, item: Amendment) -> Command | None:
        found = self._gateway.find_dossier(endpoint, item.numero_interne)
        if found is None:
            return None

        def found_there(amendment: Amendment) -> None:
            amendment.record_sent(
                numero_externe=found.numero_externe,
                etat=found.etat,
                found_by_lookup=True,
                opco_numero_interne=found.numero_interne,
                actor=WORKER.actor,
            )

        return found_there


def outgoing_cerfa(amendment: Amendment) -> Cerfa:
    """The amended Cerfa, with typeContratApp 31–38, numeroContratPrecedent and dateEffetAvenant (docs/wire.md A1…)."""
    return parse_cerfa(amendment.cerfa)


class AmendmentSync:
    """Reads the OPCOs' dossier states for the avenants sent and records each change on its avenant: the state of
    its own dossier (answered as a new one), or of the contract's (answered by updating it). On ENGAGE it reads the
    dossier for its DECA number and noAvenant."""

    def __init__(
        self,
        amendments: Amendments,
        accounts: OpcoAccounts,
        gateway: OpcoGateway,
        view: TransmissionsView,
        fan_out: FanOut = one_at_a_time,
    ) -> None:
        self._amendments = amendments
        self._accounts = accounts
        self._gateway = gateway
        self._view = view
        self._fan_out = fan_out

    def run_once(self) -> int:
        return sum(self._fan_out(self._poll, self._view.accounts_at_opcos()))

    def _poll(self, account: tuple[str, str]) -> int:
        cfa_siret, code = account
        endpoint = self._accounts.endpoint(cfa_siret, Opco(code))
        if endpoint is None:
            return 0
        known = self._view.opco_states(cfa_siret, code)
        ids = self._view.ids_at_opco(cfa_siret, code)
        changes = 0
        try:
            for state in self._gateway.dossier_states(endpoint):
                ident = ids.get(state.numero_interne)
                if ident is not None and known.get(state.numero_interne, state.etat) != state.etat:
                    changes += self._record(ident, endpoint, state)
        except OpcoError as failure:
            log.warning("avenant states of %s at %s not read: %s", cfa_siret, code, failure)
        return changes

    def _record(self, ident: UUID, endpoint: OpcoEndpoint, state: DossierState) -> int:
        detail = self._gateway.find_dossier(endpoint, state.numero_interne) if state.etat == ENGAGE else None
        contrat = detail.cerfa.get("contrat", {}) if detail is not None else {}
        no_avenant = contrat.get("noAvenant") if isinstance(contrat, dict) else None

        def apply(amendment: Amendment) -> None:
            amendment.record_opco_state(
                etat=state.etat,
                commentaire=state.commentaire_etat,
                numero_deca=state.numero_deca or (detail.numero_deca if detail else None),
                no_avenant=str(no_avenant) if no_avenant is not None else None,
                actor=WORKER.actor,
            )

        try:
            self._amendments.change_as_worker(ident, apply)
        except (DomainError, ApplicationError) as reason:
            log.info("state %s of avenant %s not recorded: %s", state.etat, ident, reason)
            return 0
        return 1

"""The numbers the OPCO answers POST /dossiers with (numeroExterne and numeroInterne, opco-wire.md §2.2) are kept on
the dossier and in the transmissions read model, and dossiers sent before the numeroInterne was kept (Sent version 1)
read back without it."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.persistence import StoredEvent

from application.access.access import WORKER
from application.opco.transmissions import row_changes
from domain.contracts.cerfa_document import parse_cerfa
from domain.contracts.contract import Contract
from tests.invoicing import CFA, accepted_contract
from tests.support import dossiers, opened, principal

SIGNATORY = {"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"}


def test_the_opco_numero_interne_names_the_dossier_in_the_transmissions_read_model(
    complete_cerfa: dict[str, Any],
) -> None:
    app, who = dossiers(), principal(CFA)
    ident = app.create_contract(who, cerfa=parse_cerfa(complete_cerfa), numero_interne="N-1", opco=None).contract.id
    app.record_mandate(who, ident, signed_on=date(2026, 6, 15), signatory=SIGNATORY, document_sha256=None)
    app.submit(who, ident)

    def sent(contract: Contract) -> None:
        contract.start_transmission(WORKER.actor)
        contract.record_sent(
            numero_externe="CA-1", etat=None, found_by_lookup=False, opco_numero_interne="NI-5", actor=WORKER.actor
        )

    contract = app.change_as_worker(ident, sent).contract
    event = list(app.repository.event_store.get(ident))[-1]

    assert isinstance(event, Contract.Sent)
    assert [change.numero_interne for change in row_changes(event)] == ["NI-5"]
    assert (contract.numero_interne, contract.opco_numero_interne, contract.opco_reference) == ("N-1", "NI-5", "NI-5")


def test_a_version_1_sent_event_reads_without_the_opco_numero_interne(complete_cerfa: dict[str, Any]) -> None:
    app = dossiers()
    contract = accepted_contract(app, principal(CFA), complete_cerfa)
    [stored] = [e for e in app.recorder.select_events(contract.id) if e.topic.endswith("Contract.Sent")]
    state = app.mapper.transcoder.decode(opened(app, stored.state))
    assert state["class_version"] == 3
    del state["opco_numero_interne"], state["sent_sha256"], state["answer_sha256"], state["class_version"]  # as v1
    old = StoredEvent(
        stored.originator_id, stored.originator_version, stored.topic, app.mapper.transcoder.encode(state)
    )

    event = app.mapper.to_domain_event(old)

    assert isinstance(event, Contract.Sent)
    assert event.opco_numero_interne is None
    assert (event.sent_sha256, event.answer_sha256) == (None, None)  # upcast through version 2 to 3
    assert [change.numero_interne for change in row_changes(event)] == [None]

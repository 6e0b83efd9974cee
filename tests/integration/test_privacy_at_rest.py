"""No personal data nor secret is stored in clear, on either store; and after an erasure, none of the erased
person's remains anywhere, even for whoever holds the master keys (her data key is gone), while every dossier
still replays and the read models rebuild."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from application.access.access import OPERATOR
from application.read_models.status import ContractFilter
from domain.contracts.contract import Contract
from infrastructure.read_models.invoice_status_view import rebuild_invoice_status_view
from infrastructure.read_models.status_view import rebuild_status_view
from interfaces.bootstrap import bootstrap
from tests.integration.privacy_support import (
    OPHELIE,
    SECRETS,
    ZEBULON,
    catch_up,
    found_in,
    sqlite_files,
    table_cells,
    write_dossiers,
)
from tests.invoicing import CFA
from tests.support import principal, settings

# What a list needs and shows: the apprentice's name, in these columns only (docs/privacy.md).
LIST_NAME_COLUMNS = {
    "status_versions.apprentice_name",
    "status_versions.apprentice_search",
    "status_versions.item",
    "invoice_status_echeances.apprentice_name",
}


def test_nothing_personal_nor_secret_is_stored_in_clear(database_url: str, tmp_path: Path) -> None:
    container = bootstrap(settings(database_url))
    try:
        write_dossiers(container)
        cells = table_cells(container)
        everything = [*ZEBULON.values(), *OPHELIE.values(), *SECRETS]

        assert found_in(cells, everything) == {}
        names = found_in(cells, [*ZEBULON.names(), *OPHELIE.names()])
        assert set(names) == {ZEBULON.nom, ZEBULON.prenom, OPHELIE.nom, OPHELIE.prenom}  # the maîtres: nowhere
        assert {place for places in names.values() for place in places} <= LIST_NAME_COLUMNS
        if container.store.dialect == "sqlite":
            raw = sqlite_files(container)
            assert [value for value in everything if value.encode() in raw] == []
    finally:
        container.close()


def test_an_erased_person_is_gone_everywhere_even_with_the_master_keys(database_url: str, tmp_path: Path) -> None:
    container = bootstrap(settings(database_url, documents_dir=tmp_path / "documents"))
    try:
        written = write_dossiers(container)
        erased = written.contracts[ZEBULON.nom]
        erasure = container.erasures.erase(OPERATOR, erased, "erase-1")
        catch_up(container)

        assert erasure.to_json()["documentsDeleted"] == 2  # the convention and the invoice's PDF
        cells = table_cells(container)
        opened = _events_opened_with_the_master_keys(container)
        gone = [*ZEBULON.values(), *ZEBULON.names()]
        assert found_in(cells, gone) == {}
        assert [value for value in gone if value.encode() in opened] == []
        assert OPHELIE.nir.encode() not in opened  # sealed with her own data key inside the master encryption
        with_data_keys = _events_read(container)
        assert [value for value in gone if value in with_data_keys] == []
        assert OPHELIE.nir in with_data_keys  # her key opens hers
        files = b"".join(p.read_bytes() for p in (tmp_path / "documents").rglob("*") if p.is_file())
        assert [value for value in gone if value.encode() in files] == []
        if container.store.dialect == "sqlite":
            raw = sqlite_files(container).lower()
            assert [value for value in gone if value.lower().encode() in raw] == []
    finally:
        container.close()


def test_after_an_erasure_every_dossier_replays_and_the_read_models_rebuild_without_the_name(
    database_url: str, tmp_path: Path
) -> None:
    container = bootstrap(settings(database_url))
    try:
        written = write_dossiers(container)
        erased = written.contracts[ZEBULON.nom]
        container.erasures.erase(OPERATOR, erased)
    finally:
        container.close()
    again = bootstrap(settings(database_url, aggregate_cache_size=0))  # another process: nothing cached
    try:
        contract = again.dossiers.contract(OPERATOR, erased)
        assert isinstance(contract, Contract)
        assert "nir" not in contract.cerfa["apprenti"]
        assert "nom" not in contract.cerfa["apprenti"]
        assert contract.cerfa["contrat"]["dateFinContrat"]  # what is not personal stays
        assert contract.personal_data_erased_at is not None
        history = again.dossiers.history(OPERATOR, erased)
        assert history[0]["data"]["personal_data"] == "erased"
        assert history[-1]["type"] == "PersonalDataErased"
        other = again.dossiers.contract(OPERATOR, written.contracts[OPHELIE.nom])
        assert other.cerfa["apprenti"]["nir"] == OPHELIE.nir
        rebuild_status_view(again.store, again.dossiers.routing, again.dossiers)
        rebuild_invoice_status_view(again.store, again.dossiers)
        catch_up(again)
        _assert_lists(again, erased)
        assert found_in(table_cells(again), ZEBULON.names()) == {}
        assert set(found_in(table_cells(again), OPHELIE.names())) == {OPHELIE.nom, OPHELIE.prenom}
    finally:
        again.close()


def _assert_lists(container: Any, erased: Any) -> None:
    page = container.status.page(principal(CFA), ContractFilter(), 50, None).items
    names = {row.contract_id: row.apprentice_name for row in page}
    assert names[erased] is None
    assert "QUINTAVALLE" not in str(names.values())
    found = container.status.page(principal(CFA), ContractFilter(apprentice="Quintavalle"), 50, None).items
    assert found == []


def _events_opened_with_the_master_keys(container: Any) -> bytes:
    """Every event's state decrypted with the master keyring: the sealed personal fields stay sealed inside."""
    cipher = container.dossiers.mapper.cipher
    recorder = container.dossiers.recorder
    return b"\n".join(cipher.decrypt(n.state) for n in recorder.select_notifications(1, 100_000))


def _events_read(container: Any) -> str:
    """Every event as the service reads it, with the master keyring and every data key that still exists."""
    mapper, recorder = container.dossiers.mapper, container.dossiers.recorder
    return "\n".join(repr(vars(mapper.to_domain_event(n))) for n in recorder.select_notifications(1, 100_000))

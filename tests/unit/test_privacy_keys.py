"""The master keyring: from the settings or a key file (0600), required in production, rotated without rewriting
what was stored; the files the service creates are readable by its user only."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from domain.contracts.cerfa_document import parse_cerfa
from infrastructure.documents.store import DirectoryDocumentStore
from infrastructure.privacy.data_keys import SqlDataKeys
from infrastructure.privacy.keyring import KeyringError, keyring_from_file, new_key_line, parse_keyring
from infrastructure.settings import Settings
from interfaces.bootstrap import bootstrap
from tests.support import DATA_KEYS, SECRET_KEY, principal, settings

EXAMPLE = Path(__file__).parent.parent.parent / "docs" / "examples" / "cerfa-complete.json"
K2 = new_key_line("k2")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_ciphertext_names_its_key_and_a_rotated_ring_still_reads_it() -> None:
    old = parse_keyring(DATA_KEYS)
    sealed = old.encrypt(b"207036926612318")
    assert b"207036926612318" not in sealed
    rotated = parse_keyring(f"{K2},{DATA_KEYS}")
    assert rotated.decrypt(sealed) == b"207036926612318"
    assert rotated.key_id_of(rotated.encrypt(b"x")) == "k2"  # the first key writes
    with pytest.raises(KeyringError, match="'t1' that encrypted this is not on the keyring"):
        parse_keyring(K2).decrypt(sealed)


@pytest.mark.parametrize(
    ("text", "error"),
    [("", "holds no key"), ("k1", "id:base64-key"), ("k1:c2hvcnQ=", "not 32"), (f"{DATA_KEYS},{DATA_KEYS}", "share")],
)
def test_a_bad_keyring_is_refused(text: str, error: str) -> None:
    with pytest.raises(KeyringError, match=error):
        parse_keyring(text)


def test_the_key_file_is_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "var" / "data.keys"
    first = keyring_from_file(path, create=True)
    assert (mode(path), mode(path.parent)) == (0o600, 0o700)
    assert keyring_from_file(path, create=True) == first
    assert list(path.parent.iterdir()) == [path]  # nothing left aside


def test_production_refuses_to_start_without_a_shared_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONVERGENCE_DATA_KEYS", raising=False)
    values = {
        "database_url": "postgresql://convergence@db/convergence",
        "environment": "production",
        "secret_key": SECRET_KEY,
        "data_keys_file": tmp_path / "data.keys",
    }
    with pytest.raises(ValidationError, match="needs the keyring that encrypts the stored data"):
        Settings(_env_file=None, **values)  # type: ignore[arg-type]
    assert not (tmp_path / "data.keys").exists()
    assert Settings(_env_file=None, data_keys=DATA_KEYS, **values).data_keys is not None  # type: ignore[arg-type]
    (tmp_path / "data.keys").write_text(DATA_KEYS)
    assert Settings(_env_file=None, **values).data_keys is None  # type: ignore[arg-type]


def test_a_rotation_reads_the_history_and_writes_under_the_new_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/convergence.db"
    document = json.loads(EXAMPLE.read_text())
    who = principal(document["organismeFormation"]["siret"])
    before = bootstrap(settings(url))
    try:
        saved = before.dossiers.create_contract(who, cerfa=parse_cerfa(document), numero_interne="R-1", opco=None)
        ident = saved.contract.id
    finally:
        before.close()
    after = bootstrap(settings(url, data_keys=f"{K2},{DATA_KEYS}", aggregate_cache_size=0))
    try:
        assert after.dossiers.contract(who, ident).cerfa["apprenti"]["nir"] == document["apprenti"]["nir"]
        after.dossiers.patch_cerfa(who, ident, {"apprenti": {"nomUsage": "Durand"}}, None)
        states = [e.state for e in after.dossiers.recorder.select_events(ident)]
        assert [s[3:5] for s in states] == [b"t1", b"k2"]  # the history as it was; the new event under k2
        assert SqlDataKeys(after.store, parse_keyring(f"{K2},{DATA_KEYS}")).rewrap() == 1  # the data key, re-wrapped
    finally:
        after.close()
    retired = bootstrap(settings(url, data_keys=K2, aggregate_cache_size=0))  # t1 retired: events still need it
    try:
        with pytest.raises(Exception, match="not on the keyring"):
            retired.dossiers.contract(who, ident)
    finally:
        retired.close()


def test_the_files_the_service_creates_are_its_users_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/var/convergence.db"
    container = bootstrap(settings(url, data_keys=None, data_keys_file=tmp_path / "var" / "data.keys"))
    try:
        document = json.loads(EXAMPLE.read_text())
        who = principal(document["organismeFormation"]["siret"])
        container.dossiers.create_contract(who, cerfa=parse_cerfa(document), numero_interne="M-1", opco=None)
        files = sorted((tmp_path / "var").iterdir())
        names = {path.name for path in files}
        assert {"convergence.db", "convergence.db-wal", "convergence.db-shm", "data.keys"} <= names
        assert {path.name: mode(path) for path in files} == dict.fromkeys(names, 0o600)
        assert mode(tmp_path / "var") == 0o700
    finally:
        container.close()
    documents = DirectoryDocumentStore(tmp_path / "documents", 1_000_000, parse_keyring(DATA_KEYS))
    ref = documents.put(b"%PDF-1.7\n% Zebulon Quintavalle\n%%EOF\n")
    stored = next(p for p in (tmp_path / "documents").rglob("*") if p.is_file())
    assert (mode(tmp_path / "documents"), mode(stored.parent), mode(stored)) == (0o700, 0o700, 0o600)
    assert b"Quintavalle" not in stored.read_bytes()
    assert documents.get(ref.digest) is not None

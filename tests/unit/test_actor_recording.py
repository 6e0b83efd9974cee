"""The actor is written beside each event's state by the application's mapper, and composes with the library's
compressor and cipher; the rule for a person's name; the one rule of what personal data a role sees."""

from __future__ import annotations

from typing import Any

import pytest

from application.access.access import Role
from application.access.exposure import exposed, mask
from application.audit.actor import Actor, acting, acting_person, current_actor
from application.audit.history import History
from application.audit.recording import ActorMapper
from application.dossiers import Dossiers
from domain.contracts.cerfa_document import parse_cerfa
from domain.errors import InvalidValue
from infrastructure.reference_data import idcc_routing
from tests.support import FixedClock, principal

PERSON = Actor(kind="token", name="front", person="jdupont", token_id="t-1", cfa_siret="79852413800012")
CIPHERED = {
    "PERSISTENCE_MODULE": "eventsourcing.popo",
    "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
    "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
    "CIPHER_KEY": "8ZsKyK4WDYT5t8yUbWhlbpLYNyAVa6o7F1ZJDZvkbLA=",
}


def test_the_actor_survives_compression_and_encryption(complete_cerfa: dict[str, Any]) -> None:
    app = Dossiers(CIPHERED, routing=idcc_routing(), clock=FixedClock())
    assert isinstance(app.mapper, ActorMapper)
    assert app.mapper.cipher is not None
    assert app.mapper.compressor is not None
    who = principal(PERSON.cfa_siret or "")
    with acting(PERSON):
        contract = app.create_contract(who, cerfa=parse_cerfa(complete_cerfa), numero_interne="X-1", opco=None).contract
    (stored,) = app.recorder.select_events(contract.id)
    assert b"jdupont" not in stored.state  # ciphered with the rest of the state
    (entry,) = History(app).of_contract(who, contract.id)
    assert entry["actor"] == PERSON.as_record()
    assert app.repository.get(contract.id).version == 1


def test_acting_lasts_for_its_block_only() -> None:
    assert current_actor() is None
    with acting(PERSON):
        assert current_actor() == PERSON
        with acting(Actor(kind="worker", name="w")):
            assert current_actor() == Actor(kind="worker", name="w")
        assert current_actor() == PERSON
    assert current_actor() is None


@pytest.mark.parametrize("name", ["jdupont", "Claire Martin (RH)", "x" * 128, "42"])
def test_a_person_is_named_in_printable_ascii(name: str) -> None:
    assert acting_person(name) == name


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "length"),
        ("x" * 129, "length"),
        ("a\x00b", "not_printable"),
        ("Zoé", "not_printable"),
        (" a", "not_printable"),
    ],
)
def test_a_malformed_person_is_refused_with_the_rule(name: str, code: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        acting_person(name)
    assert (refused.value.problem.field, refused.value.problem.code) == ("X-Acting-Person", code)


def test_the_nir_is_masked_at_any_depth_for_an_auditor_only() -> None:
    data: dict[str, Any] = {
        "cerfa": {"apprenti": {"nir": "189057512345678", "nom": "Durand"}},
        "changes": [{"nir": "289"}],
    }
    shown = exposed(data, Role.AUDITOR)
    assert shown["cerfa"]["apprenti"] == {"nir": "*************78", "nom": "Durand"}
    assert shown["changes"] == [{"nir": "*89"}]
    assert exposed(data, Role.FRONTEND) == exposed(data, Role.ADMIN) == data
    assert mask("12") == "12"
    assert data["cerfa"]["apprenti"]["nir"] == "189057512345678"  # the original is left as it was

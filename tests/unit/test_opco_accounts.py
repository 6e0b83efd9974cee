"""The CFAs' accounts at the OPCOs: who sets credentials, what is valid, sealing, and how an OPCO is reached."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from application.access import OPERATOR, Role
from application.dossiers import Dossiers
from application.errors import Forbidden, NotFound
from application.opco_accounts import OpcoAccounts
from application.ports import SecretBox
from domain.errors import InvalidValue
from domain.opco_account import KeyStatus, opco_account_id
from domain.opco_catalogue import CATALOGUE, OpcoProfile
from domain.opcos import Opco
from infrastructure.secret_box import FernetBox
from tests.support import SECRET_KEY, dossiers, principal
from tests.unit.fakes import MemoryContactLog, PlainBox

CFA = "79852413800012"
OTHER_CFA = "73282932000074"
API_KEY = "atlas-KEY-0001-abcdef"
CLIENT_SECRET = "client-SECRET-42-qwerty"
BASE_URL = "http://opco.test"


@pytest.fixture
def app() -> Iterator[Dossiers]:
    application = dossiers()
    yield application
    application.close()


@pytest.fixture
def box() -> PlainBox:
    return PlainBox()


def profiles(*unreachable: Opco) -> Mapping[Opco, OpcoProfile]:
    return {
        opco: replace(profile, base_url=None if opco in unreachable else BASE_URL)
        for opco, profile in CATALOGUE.items()
    }


@pytest.fixture
def accounts(app: Dossiers, box: PlainBox) -> OpcoAccounts:
    return OpcoAccounts(app, box, profiles(Opco.AKTO), MemoryContactLog())


def stored_bytes(app: Dossiers) -> bytes:
    """Every event of the store, as written."""
    return b"\n".join(n.state for n in app.recorder.select_notifications(1, 10_000))


# -- who may set credentials --------------------------------------------------------------------------------


def test_an_admin_of_the_cfa_sets_the_key(accounts: OpcoAccounts) -> None:
    account = accounts.set_credentials(principal(CFA, Role.ADMIN, "token:admin"), CFA, Opco.ATLAS, api_key=API_KEY)
    assert (account.key_status, account.key_last4, account.client_id) == (KeyStatus.UNCHECKED, "cdef", None)
    read = accounts.account(CFA, Opco.ATLAS)
    assert read is not None
    assert read.id == opco_account_id(CFA, "ATLAS")
    assert accounts.usable(CFA, Opco.ATLAS)
    assert not accounts.usable(CFA, Opco.OPCO2I)


def test_the_operator_sets_the_key_of_any_cfa(accounts: OpcoAccounts) -> None:
    accounts.set_credentials(OPERATOR, OTHER_CFA, Opco.ATLAS, api_key=API_KEY)
    assert accounts.usable(OTHER_CFA, Opco.ATLAS)
    assert not accounts.usable(CFA, Opco.ATLAS)


@pytest.mark.parametrize("role", [Role.FRONTEND, Role.AUDITOR])
def test_other_roles_of_the_cfa_are_forbidden(accounts: OpcoAccounts, role: Role) -> None:
    with pytest.raises(Forbidden):
        accounts.set_credentials(principal(CFA, role), CFA, Opco.ATLAS, api_key=API_KEY)
    assert accounts.account(CFA, Opco.ATLAS) is None


def test_another_cfa_does_not_see_the_account(accounts: OpcoAccounts) -> None:
    with pytest.raises(NotFound):
        accounts.set_credentials(principal(OTHER_CFA, Role.ADMIN), CFA, Opco.ATLAS, api_key=API_KEY)
    with pytest.raises(NotFound):
        accounts.overview(principal(OTHER_CFA, Role.ADMIN), CFA)
    assert accounts.account(CFA, Opco.ATLAS) is None
    assert len(accounts.overview(principal(CFA, Role.AUDITOR), CFA)) == len(CATALOGUE)  # reading is allowed


# -- what is valid ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api_key", "client_id", "client_secret", "field", "code"),
    [
        ("short", None, None, "apiKey", "secret_format"),
        ("x" * 513, None, None, "apiKey", "secret_format"),
        ("with a space", None, None, "apiKey", "secret_format"),
        ("tab\tinside-key", None, None, "apiKey", "secret_format"),
        (API_KEY, "software-id", "short", "clientSecret", "secret_format"),
        (API_KEY, "software-id", "two words-secret", "clientSecret", "secret_format"),
        (API_KEY, "software-id", None, "clientSecret", "pair"),  # the id without its secret
    ],
)
def test_invalid_credentials_name_the_field(
    accounts: OpcoAccounts, api_key: str, client_id: str | None, client_secret: str | None, field: str, code: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        accounts.set_credentials(
            OPERATOR, CFA, Opco.AFDAS, api_key=api_key, client_id=client_id, client_secret=client_secret
        )
    assert (refused.value.problem.field, refused.value.problem.code) == (field, code)
    assert accounts.account(CFA, Opco.AFDAS) is None


def test_a_client_secret_without_its_id_is_refused(accounts: OpcoAccounts) -> None:
    with pytest.raises(InvalidValue) as refused:
        accounts.set_credentials(OPERATOR, CFA, Opco.AFDAS, api_key=API_KEY, client_secret=CLIENT_SECRET)
    assert refused.value.problem.code == "pair"
    assert refused.value.problem.field in {"clientId", "clientSecret"}


def test_keys_of_8_and_512_characters_are_accepted(accounts: OpcoAccounts) -> None:
    accounts.set_credentials(OPERATOR, CFA, Opco.ATLAS, api_key="k" * 8)
    accounts.set_credentials(OPERATOR, CFA, Opco.ATLAS, api_key="k" * 512, client_id="id", client_secret="s" * 8)
    endpoint = accounts.endpoint(CFA, Opco.ATLAS)
    assert endpoint is not None
    assert (endpoint.api_key, endpoint.client_secret) == ("k" * 512, "s" * 8)


# -- sealing ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("box_kind", ["plain", "fernet"])
def test_the_secrets_are_never_stored_in_clear(app: Dossiers, box_kind: str) -> None:
    box: SecretBox = PlainBox() if box_kind == "plain" else FernetBox(SECRET_KEY.encode())
    accounts = OpcoAccounts(app, box, profiles(), MemoryContactLog())
    accounts.set_credentials(
        OPERATOR, CFA, Opco.AFDAS, api_key=API_KEY, client_id="software-id", client_secret=CLIENT_SECRET
    )
    accounts.reject_key(CFA, Opco.AFDAS, "403")
    accounts.set_credentials(
        OPERATOR, CFA, Opco.AFDAS, api_key=API_KEY + "-2", client_id="id2", client_secret=CLIENT_SECRET
    )

    events = app.recorder.select_events(opco_account_id(CFA, "AFDAS"))
    assert [e.topic.rsplit(".", 1)[-1] for e in events] == ["Opened", "CredentialsSet", "KeyRejected", "CredentialsSet"]
    everything = stored_bytes(app)
    for secret in (API_KEY, API_KEY + "-2", CLIENT_SECRET):
        assert secret.encode() not in everything
    account = accounts.account(CFA, Opco.AFDAS)
    assert account is not None
    assert account.sealed_api_key is not None
    assert account.sealed_api_key.encode() in everything  # the check reads the bytes the secrets would be in
    assert b"software-id" in everything  # a client id is no secret
    endpoint = accounts.endpoint(CFA, Opco.AFDAS)
    assert endpoint is not None
    assert (endpoint.api_key, endpoint.client_secret) == (API_KEY + "-2", CLIENT_SECRET)


def test_the_plain_box_hides_the_clear_text_and_opens_only_what_it_sealed(box: PlainBox) -> None:
    sealed = box.seal(API_KEY)
    assert API_KEY not in sealed
    assert box.open(sealed) == API_KEY
    with pytest.raises(ValueError, match="not sealed"):
        box.open(API_KEY)


# -- reaching the OPCO --------------------------------------------------------------------------------------


def test_the_endpoint_opens_the_sealed_credentials(accounts: OpcoAccounts, box: PlainBox) -> None:
    accounts.set_credentials(
        OPERATOR, CFA, Opco.AFDAS, api_key=API_KEY, client_id="software-id", client_secret=CLIENT_SECRET
    )
    opened = box.opened
    endpoint = accounts.endpoint(CFA, Opco.AFDAS)
    assert endpoint is not None
    assert box.opened == opened + 2
    afdas = CATALOGUE[Opco.AFDAS]
    assert endpoint.opco is Opco.AFDAS
    assert (endpoint.base_url, endpoint.protocol) == (BASE_URL, afdas.protocol)
    assert (endpoint.api_key, endpoint.client_id, endpoint.client_secret) == (API_KEY, "software-id", CLIENT_SECRET)
    assert (endpoint.scope, endpoint.token_url) == (afdas.oauth_scope, afdas.token_url)

    accounts.set_credentials(OPERATOR, CFA, Opco.ATLAS, api_key=API_KEY)
    atlas = accounts.endpoint(CFA, Opco.ATLAS)
    assert atlas is not None
    assert (atlas.protocol, atlas.client_id, atlas.client_secret) == (2, None, None)


def test_no_endpoint_without_a_key_or_an_address(accounts: OpcoAccounts) -> None:
    assert accounts.endpoint(CFA, Opco.ATLAS) is None  # no account at all
    accounts.set_credentials(OPERATOR, CFA, Opco.AKTO, api_key=API_KEY)
    assert accounts.usable(CFA, Opco.AKTO)
    assert accounts.endpoint(CFA, Opco.AKTO) is None  # no address known for this OPCO


def test_a_rejected_key_gives_no_endpoint_until_a_new_key_is_set(accounts: OpcoAccounts) -> None:
    accounts.set_credentials(OPERATOR, CFA, Opco.ATLAS, api_key=API_KEY)
    accounts.confirm_key(CFA, Opco.ATLAS, date(2027, 1, 31), None)
    assert accounts.endpoint(CFA, Opco.ATLAS) is not None
    accounts.reject_key(CFA, Opco.ATLAS, "403: clé expirée")
    account = accounts.account(CFA, Opco.ATLAS)
    assert account is not None
    assert (account.key_status, account.key_comment) == (KeyStatus.REJECTED, "403: clé expirée")
    assert accounts.endpoint(CFA, Opco.ATLAS) is None
    assert not accounts.usable(CFA, Opco.ATLAS)

    accounts.set_credentials(principal(CFA, Role.ADMIN), CFA, Opco.ATLAS, api_key="atlas-KEY-0002-renewed")
    endpoint = accounts.endpoint(CFA, Opco.ATLAS)
    assert endpoint is not None
    assert endpoint.api_key == "atlas-KEY-0002-renewed"
    renewed = accounts.account(CFA, Opco.ATLAS)
    assert renewed is not None
    assert (renewed.key_status, renewed.key_comment, renewed.key_expires_on) == (KeyStatus.UNCHECKED, None, None)


def test_reject_and_confirm_record_only_changes(app: Dossiers, accounts: OpcoAccounts) -> None:
    accounts.set_credentials(OPERATOR, CFA, Opco.ATLAS, api_key=API_KEY)
    accounts.reject_key(CFA, Opco.ATLAS, "403")
    accounts.reject_key(CFA, Opco.ATLAS, "403")
    accounts.confirm_key(CFA, Opco.ATLAS, date(2027, 1, 31), "ok")
    accounts.confirm_key(CFA, Opco.ATLAS, date(2027, 1, 31), "ok")
    accounts.reject_key(CFA, Opco.OPCO2I, "no account: nothing to reject")
    events = app.recorder.select_events(opco_account_id(CFA, "ATLAS"))
    assert [e.topic.rsplit(".", 1)[-1] for e in events] == ["Opened", "CredentialsSet", "KeyRejected", "KeyConfirmed"]
    assert accounts.account(CFA, Opco.OPCO2I) is None


def test_the_overview_lists_every_opco_with_its_key_and_last_contact(accounts: OpcoAccounts) -> None:
    accounts.set_credentials(OPERATOR, CFA, Opco.ATLAS, api_key=API_KEY)
    moment = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    accounts.contacted(CFA, Opco.ATLAS, moment, "503")
    views = {v.profile.opco: v for v in accounts.overview(principal(CFA, Role.AUDITOR), CFA)}
    assert set(views) == set(CATALOGUE)
    assert views[Opco.ATLAS].key_status is KeyStatus.UNCHECKED
    assert views[Opco.AKTO].key_status is KeyStatus.NONE
    contact = views[Opco.ATLAS].contact
    assert contact is not None
    assert (contact.last_contact_at, contact.last_error) == (moment, "503")
    assert views[Opco.AKTO].contact is None

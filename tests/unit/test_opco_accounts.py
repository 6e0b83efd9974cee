"""The CFAs' accounts at the OPCOs: who sets credentials, what is valid, sealing, and how an OPCO is reached."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from joserfc.jwk import RSAKey

from application.access.access import OPERATOR, Role
from application.dossiers import Dossiers
from application.errors import Forbidden, IdempotencyKeyReused, NotFound, PreconditionRequired, VersionMismatch
from application.opco.opco_accounts import OpcoAccounts
from application.ports import SecretBox
from domain.errors import InvalidValue
from domain.opco.opco_account import KeyStatus, opco_account_id
from domain.opco.opco_catalogue import CATALOGUE, OpcoProfile
from domain.opco.opcos import Opco
from infrastructure.access.secret_box import FernetBox
from infrastructure.opco.opco_client.dpop import JoseDpopKeys
from tests.support import SECRET_KEY, dossiers, opened, principal
from tests.unit.fakes import MemoryContactLog, PlainBox

CFA = "79852413800012"
OTHER_CFA = "73282932000074"
API_KEY = "atlas-KEY-0001-abcdef"
CLIENT_SECRET = "client-SECRET-42-qwerty"
BASE_URL = "http://opco.test"
TOKEN_URL = "http://auth.test/token"


@pytest.fixture
def app() -> Iterator[Dossiers]:
    application = dossiers()
    yield application
    application.close()


@pytest.fixture
def box() -> PlainBox:
    return PlainBox()


def profiles(*unreachable: Opco) -> Mapping[Opco, OpcoProfile]:
    """Every OPCO in its own dialect, at a test address (none for `unreachable`)."""
    return {
        opco: replace(
            profile,
            base_url=None if opco in unreachable else BASE_URL,
            token_url=TOKEN_URL if profile.oauth else None,
        )
        for opco, profile in CATALOGUE.items()
    }


@pytest.fixture
def accounts(app: Dossiers, box: PlainBox) -> OpcoAccounts:
    return OpcoAccounts(app, box, profiles(Opco.AKTO), MemoryContactLog(), JoseDpopKeys())


def stored_bytes(app: Dossiers) -> bytes:
    """Every event of the store, as written, then opened with the master keyring: the secrets are sealed again
    inside (the box)."""
    return b"\n".join(opened(app, n.state) for n in app.recorder.select_notifications(1, 10_000))


def event_names(app: Dossiers, opco: Opco) -> list[str]:
    return [e.topic.rsplit(".", 1)[-1] for e in app.recorder.select_events(opco_account_id(CFA, opco.value))]


# -- who may set credentials --------------------------------------------------------------------------------


def test_an_admin_of_the_cfa_sets_the_key(accounts: OpcoAccounts) -> None:
    account = accounts.set_credentials(
        principal(CFA, Role.ADMIN, "token:admin"), CFA, Opco.ATLAS, api_key=API_KEY
    ).aggregate
    assert (account.key_status, account.key_last4, account.client_id) == (KeyStatus.UNCHECKED, "cdef", None)
    read = accounts.account(CFA, Opco.ATLAS)
    assert read is not None
    assert read.id == opco_account_id(CFA, "ATLAS")
    assert not accounts.usable(CFA, Opco.ATLAS)  # ATLAS asks for a token: the software's OAuth client is missing
    accounts.set_oauth_client(OPERATOR, CFA, Opco.ATLAS, client_id="software-id", client_secret=CLIENT_SECRET)
    assert accounts.usable(CFA, Opco.ATLAS)
    assert not accounts.usable(CFA, Opco.OPCO2I)


def test_the_operator_sets_the_key_of_any_cfa(accounts: OpcoAccounts) -> None:
    accounts.set_credentials(OPERATOR, OTHER_CFA, Opco.CONSTRUCTYS, api_key=API_KEY)
    assert accounts.usable(OTHER_CFA, Opco.CONSTRUCTYS)  # key only: the key is all it needs
    assert not accounts.usable(CFA, Opco.CONSTRUCTYS)


@pytest.mark.parametrize("role", [Role.FRONTEND, Role.AUDITOR])
def test_other_roles_of_the_cfa_are_forbidden(accounts: OpcoAccounts, role: Role) -> None:
    with pytest.raises(Forbidden):
        accounts.set_credentials(principal(CFA, role), CFA, Opco.ATLAS, api_key=API_KEY)
    with pytest.raises(Forbidden):
        accounts.set_oauth_client(principal(CFA, role), CFA, Opco.ATLAS, client_id="id", client_secret=CLIENT_SECRET)
    with pytest.raises(Forbidden):
        accounts.set_dpop_key(principal(CFA, role), CFA, Opco.AFDAS, generate="ES256")
    assert accounts.account(CFA, Opco.ATLAS) is None
    assert accounts.account(CFA, Opco.AFDAS) is None


def test_another_cfa_does_not_see_the_account(accounts: OpcoAccounts) -> None:
    with pytest.raises(NotFound):
        accounts.set_credentials(principal(OTHER_CFA, Role.ADMIN), CFA, Opco.ATLAS, api_key=API_KEY)
    with pytest.raises(NotFound):
        accounts.set_dpop_key(principal(OTHER_CFA, Role.ADMIN), CFA, Opco.AFDAS, generate="ES256")
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
        (API_KEY, "x" * 201, CLIENT_SECRET, "clientId", "client_id_format"),
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
    accounts = OpcoAccounts(app, box, profiles(), MemoryContactLog(), JoseDpopKeys())
    accounts.set_credentials(
        OPERATOR, CFA, Opco.AFDAS, api_key=API_KEY, client_id="software-id", client_secret=CLIENT_SECRET
    )
    accounts.reject_key(CFA, Opco.AFDAS, "403")
    accounts.set_credentials(OPERATOR, CFA, Opco.AFDAS, api_key=API_KEY + "-2", idempotency_key="renew-1")
    accounts.set_oauth_client(
        OPERATOR, CFA, Opco.AFDAS, client_id="id2", client_secret=CLIENT_SECRET + "-2", idempotency_key="client-1"
    )
    dpop = JoseDpopKeys().generate("RS256")
    accounts.set_dpop_key(OPERATOR, CFA, Opco.AFDAS, private_key=dpop.private_jwk, idempotency_key="key-1")

    assert event_names(app, Opco.AFDAS) == [
        "Opened",
        "ApiKeySet",
        "OAuthClientSet",
        "KeyRejected",
        "ApiKeySet",
        "OAuthClientSet",
        "DpopKeySet",
    ]
    everything = stored_bytes(app)  # the events and the Idempotency-Key records, as written
    private_d = JoseDpopKeys().load(dpop.private_jwk).private_jwk.split('"d": "')[1].split('"')[0]
    for secret in (API_KEY, API_KEY + "-2", CLIENT_SECRET, CLIENT_SECRET + "-2", private_d):
        assert secret.encode() not in everything
    account = accounts.account(CFA, Opco.AFDAS)
    assert account is not None
    assert account.sealed_api_key is not None
    assert account.sealed_api_key.encode() in everything  # the check reads the bytes the secrets would be in
    assert b"software-id" in everything  # a client id is no secret
    assert dpop.thumbprint.encode() in everything  # nor the public key's thumbprint
    endpoint = accounts.endpoint(CFA, Opco.AFDAS)
    assert endpoint is not None
    assert (endpoint.api_key, endpoint.client_id, endpoint.client_secret) == (
        API_KEY + "-2",
        "id2",
        CLIENT_SECRET + "-2",
    )
    assert endpoint.dpop_key is not None
    assert JoseDpopKeys().load(endpoint.dpop_key).thumbprint == dpop.thumbprint
    assert CLIENT_SECRET not in repr(endpoint)
    assert API_KEY not in repr(endpoint)


def test_the_plain_box_hides_the_clear_text_and_opens_only_what_it_sealed(box: PlainBox) -> None:
    sealed = box.seal(API_KEY)
    assert API_KEY not in sealed
    assert box.open(sealed) == API_KEY
    with pytest.raises(ValueError, match="not sealed"):
        box.open(API_KEY)


def test_the_fernet_digest_is_keyed_and_stable() -> None:
    box, other = FernetBox(SECRET_KEY.encode()), FernetBox(b"6mJ3Ye8rQ2p0y3uJ6w9bVf3sT2xR1aZc4dE5fG6hJ7k=")
    assert box.digest(CLIENT_SECRET) == box.digest(CLIENT_SECRET)
    assert box.digest(CLIENT_SECRET) != other.digest(CLIENT_SECRET)
    assert box.digest(CLIENT_SECRET) != box.digest(CLIENT_SECRET + "x")


# -- the OAuth client and the DPoP key ----------------------------------------------------------------------


def test_the_oauth_client_is_set_on_its_own_and_the_same_again_changes_nothing(
    app: Dossiers, accounts: OpcoAccounts
) -> None:
    accounts.set_credentials(OPERATOR, CFA, Opco.ATLAS, api_key=API_KEY)
    first = accounts.set_oauth_client(OPERATOR, CFA, Opco.ATLAS, client_id="software-id", client_secret=CLIENT_SECRET)
    again = accounts.set_oauth_client(OPERATOR, CFA, Opco.ATLAS, client_id="software-id", client_secret=CLIENT_SECRET)
    assert (first.position is not None, again.position) == (True, None)
    renewed = accounts.set_oauth_client(
        OPERATOR, CFA, Opco.ATLAS, client_id="software-id", client_secret=CLIENT_SECRET + "-new"
    )
    accounts.set_credentials(OPERATOR, CFA, Opco.ATLAS, api_key=API_KEY + "-2")  # a new key keeps the client

    assert renewed.aggregate.client_set_at is not None
    assert event_names(app, Opco.ATLAS) == ["Opened", "ApiKeySet", "OAuthClientSet", "OAuthClientSet", "ApiKeySet"]
    endpoint = accounts.endpoint(CFA, Opco.ATLAS)
    assert endpoint is not None
    assert (endpoint.client_id, endpoint.client_secret, endpoint.api_key) == (
        "software-id",
        CLIENT_SECRET + "-new",
        API_KEY + "-2",
    )
    assert (endpoint.scope, endpoint.token_url, endpoint.dpop_key) == ("api.read api.write", TOKEN_URL, None)


def test_a_generated_dpop_key_is_shown_by_its_public_part_and_replaced_only_under_if_match(
    accounts: OpcoAccounts,
) -> None:
    outcome = accounts.set_dpop_key(OPERATOR, CFA, Opco.AFDAS, generate="RS256")
    key = outcome.aggregate.dpop_key
    assert key is not None
    assert (key.alg, key.public_jwk["kty"], "d" in key.public_jwk) == ("RS256", "RSA", False)
    assert len(key.thumbprint) == 43  # base64url of a SHA-256

    with pytest.raises(PreconditionRequired):
        accounts.set_dpop_key(OPERATOR, CFA, Opco.AFDAS, generate="ES256")
    with pytest.raises(VersionMismatch):
        accounts.set_dpop_key(
            OPERATOR, CFA, Opco.AFDAS, generate="ES256", expected_version=outcome.aggregate.version - 1
        )
    replaced = accounts.set_dpop_key(
        OPERATOR, CFA, Opco.AFDAS, generate="ES256", expected_version=outcome.aggregate.version
    )
    assert replaced.aggregate.dpop_key is not None
    assert replaced.aggregate.dpop_key.alg == "ES256"
    assert replaced.aggregate.dpop_key.thumbprint != key.thumbprint


def test_the_same_uploaded_key_again_changes_nothing_and_a_pem_is_read(accounts: OpcoAccounts) -> None:
    material = JoseDpopKeys().generate("ES256")
    first = accounts.set_dpop_key(OPERATOR, CFA, Opco.AFDAS, private_key=material.private_jwk)
    again = accounts.set_dpop_key(OPERATOR, CFA, Opco.AFDAS, private_key=material.private_jwk)
    assert (first.position is not None, again.position, again.aggregate.version) == (
        True,
        None,
        first.aggregate.version,
    )

    pem = RSAKey.generate_key(2048).as_pem(private=True).decode()
    other = accounts.set_dpop_key(
        principal(CFA, Role.ADMIN), CFA, Opco.AFDAS, private_key=pem, expected_version=first.aggregate.version
    )
    assert other.aggregate.dpop_key is not None
    assert other.aggregate.dpop_key.alg == "RS256"


@pytest.mark.parametrize(
    ("opco", "arguments", "field", "code"),
    [
        (Opco.ATLAS, {"generate": "ES256"}, "dpopKey", "not_used_by_opco"),
        (Opco.AFDAS, {}, "generate", "one_of"),
        (Opco.AFDAS, {"generate": "HS256"}, "generate", "dpop_algorithm"),
        (
            Opco.AFDAS,
            {"private_key": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"},
            "privateKey",
            "dpop_key",
        ),
        (Opco.AFDAS, {"private_key": {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}}, "privateKey", "dpop_key"),
    ],
)
def test_a_dpop_key_that_cannot_serve_is_refused_naming_the_field(
    accounts: OpcoAccounts, opco: Opco, arguments: dict[str, object], field: str, code: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        accounts.set_dpop_key(OPERATOR, CFA, opco, **arguments)  # type: ignore[arg-type]
    assert (refused.value.problem.field, refused.value.problem.code) == (field, code)
    assert accounts.account(CFA, opco) is None


def test_an_idempotency_key_replays_the_first_answer_and_refuses_another_secret(
    app: Dossiers, accounts: OpcoAccounts
) -> None:
    first = accounts.set_oauth_client(
        OPERATOR, CFA, Opco.ATLAS, client_id="software-id", client_secret=CLIENT_SECRET, idempotency_key="k-1"
    )
    again = accounts.set_oauth_client(
        OPERATOR, CFA, Opco.ATLAS, client_id="software-id", client_secret=CLIENT_SECRET, idempotency_key="k-1"
    )
    assert (again.replayed, again.aggregate.version) == (True, first.aggregate.version)
    with pytest.raises(IdempotencyKeyReused):
        accounts.set_oauth_client(
            OPERATOR, CFA, Opco.ATLAS, client_id="software-id", client_secret=CLIENT_SECRET + "x", idempotency_key="k-1"
        )
    assert event_names(app, Opco.ATLAS) == ["Opened", "OAuthClientSet"]


def test_if_match_on_an_account_conditions_the_change(accounts: OpcoAccounts) -> None:
    with pytest.raises(VersionMismatch):
        accounts.set_credentials(OPERATOR, CFA, Opco.ATLAS, api_key=API_KEY, expected_version=1)
    opened = accounts.set_credentials(OPERATOR, CFA, Opco.ATLAS, api_key=API_KEY).aggregate
    with pytest.raises(VersionMismatch):
        accounts.set_credentials(OPERATOR, CFA, Opco.ATLAS, api_key=API_KEY + "2", expected_version=opened.version - 1)
    changed = accounts.set_credentials(
        OPERATOR, CFA, Opco.ATLAS, api_key=API_KEY + "2", expected_version=opened.version
    )
    assert changed.aggregate.version == opened.version + 1


# -- reaching the OPCO --------------------------------------------------------------------------------------


def test_the_endpoint_opens_the_sealed_credentials(accounts: OpcoAccounts, box: PlainBox) -> None:
    accounts.set_credentials(
        OPERATOR, CFA, Opco.AFDAS, api_key=API_KEY, client_id="software-id", client_secret=CLIENT_SECRET
    )
    accounts.set_dpop_key(OPERATOR, CFA, Opco.AFDAS, generate="ES256")
    opened = box.opened
    endpoint = accounts.endpoint(CFA, Opco.AFDAS)
    assert endpoint is not None
    assert box.opened == opened + 3
    afdas = CATALOGUE[Opco.AFDAS]
    assert endpoint.opco is Opco.AFDAS
    assert (endpoint.base_url, endpoint.protocol) == (BASE_URL, afdas.protocol)
    assert (endpoint.api_key, endpoint.client_id, endpoint.client_secret) == (API_KEY, "software-id", CLIENT_SECRET)
    assert (endpoint.scope, endpoint.token_url) == ("CFA_OPCO", TOKEN_URL)
    assert endpoint.dpop_key is not None

    accounts.set_credentials(OPERATOR, CFA, Opco.CONSTRUCTYS, api_key=API_KEY)
    constructys = accounts.endpoint(CFA, Opco.CONSTRUCTYS)
    assert constructys is not None
    assert (constructys.protocol, constructys.client_id, constructys.client_secret) == (1, None, None)
    assert constructys.errors == CATALOGUE[Opco.CONSTRUCTYS].errors


def test_each_missing_piece_is_named_until_the_opco_can_be_called(accounts: OpcoAccounts) -> None:
    def code() -> str | None:
        not_ready = accounts.not_ready(CFA, Opco.AFDAS)
        return None if not_ready is None else not_ready.code

    assert code() == "api_key_missing"
    accounts.set_credentials(OPERATOR, CFA, Opco.AFDAS, api_key=API_KEY)
    assert code() == "oauth_client_missing"
    accounts.set_oauth_client(OPERATOR, CFA, Opco.AFDAS, client_id="software-id", client_secret=CLIENT_SECRET)
    assert code() == "dpop_key_missing"
    assert accounts.endpoint(CFA, Opco.AFDAS) is None
    accounts.set_dpop_key(OPERATOR, CFA, Opco.AFDAS, generate="ES256")
    assert code() is None
    assert accounts.endpoint(CFA, Opco.AFDAS) is not None
    accounts.reject_key(CFA, Opco.AFDAS, "403: clé expirée")
    assert code() == "api_key_rejected"


def test_no_endpoint_without_a_key_or_an_address(accounts: OpcoAccounts) -> None:
    assert accounts.endpoint(CFA, Opco.ATLAS) is None  # no account at all
    accounts.set_credentials(OPERATOR, CFA, Opco.AKTO, api_key=API_KEY, client_id="id", client_secret=CLIENT_SECRET)
    assert accounts.usable(CFA, Opco.AKTO)
    assert accounts.endpoint(CFA, Opco.AKTO) is None  # no address known for this OPCO
    not_ready = accounts.not_ready(CFA, Opco.AKTO)
    assert not_ready is not None
    assert not_ready.code == "opco_unreachable"
    assert "no production address of AKTO's API is known" in not_ready.message


def test_a_rejected_key_gives_no_endpoint_until_a_new_key_is_set(accounts: OpcoAccounts) -> None:
    accounts.set_credentials(OPERATOR, CFA, Opco.ATLAS, api_key=API_KEY, client_id="id", client_secret=CLIENT_SECRET)
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
    assert (endpoint.api_key, endpoint.client_id) == ("atlas-KEY-0002-renewed", "id")
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
    assert event_names(app, Opco.ATLAS) == ["Opened", "ApiKeySet", "KeyRejected", "KeyConfirmed"]
    assert accounts.account(CFA, Opco.OPCO2I) is None


def test_the_overview_lists_every_opco_with_its_key_and_last_contact(accounts: OpcoAccounts) -> None:
    accounts.set_credentials(OPERATOR, CFA, Opco.ATLAS, api_key=API_KEY)
    moment = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    accounts.contacted(CFA, Opco.ATLAS, moment, "503")
    views = {v.profile.opco: v for v in accounts.overview(principal(CFA, Role.AUDITOR), CFA)}
    assert set(views) == set(CATALOGUE)
    assert views[Opco.ATLAS].key_status is KeyStatus.UNCHECKED
    assert views[Opco.AKTO].key_status is KeyStatus.NONE
    codes = {opco: view.not_ready.code if view.not_ready else None for opco, view in views.items()}
    assert (codes[Opco.ATLAS], codes[Opco.AKTO]) == ("oauth_client_missing", "opco_unreachable")
    contact = views[Opco.ATLAS].contact
    assert contact is not None
    assert (contact.last_contact_at, contact.last_error) == (moment, "503")
    assert views[Opco.AKTO].contact is None

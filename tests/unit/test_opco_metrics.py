"""The per-OPCO figures of the client (infrastructure/opco/opco_client/metrics.py), against a scripted OPCO: each HTTP
exchange counted by outcome and timed, the key's and the OAuth client's refusals counted."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import REGISTRY

from application.opco.opco_gateway import KeyRejected, OpcoError, RefusedByOpco, TransientOpcoError
from domain.opco.opcos import Opco
from infrastructure.opco.opco_client import HttpOpcoGateway
from tests.unit.test_opco_auth_flavours import IDENTITY, ScriptedOpco, answer, endpoint, ok

STATUS = "/SorApiEchangeCFA/v1/status"
TOKEN = "/SorApiIdentityServer/connect/token"
KEY_ONLY = {"client_id": None, "client_secret": None, "token_url": None}


class Figures:
    """The samples' values now, and how much they grew since."""

    def __init__(self) -> None:
        self._before: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self.mark()

    def mark(self) -> None:
        self._before = self._now()

    @staticmethod
    def _now() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in REGISTRY.collect()
            if family.name.startswith("convergence_opco")
            for sample in family.samples
        }

    def grown(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Every sample that changed, by how much (`_created` timestamps left out)."""
        now = self._now()
        return {
            key: value - self._before.get(key, 0.0)
            for key, value in now.items()
            if value != self._before.get(key, 0.0) and not key[0].endswith("_created")
        }


def calls(opco: str, outcome: str, endpoint: str = "api") -> tuple[str, tuple[tuple[str, str], ...]]:
    return ("convergence_opco_calls_total", (("endpoint", endpoint), ("opco", opco), ("outcome", outcome)))


def timed(opco: str, endpoint: str = "api") -> tuple[str, tuple[tuple[str, str], ...]]:
    return ("convergence_opco_call_duration_seconds_count", (("endpoint", endpoint), ("opco", opco)))


@pytest.fixture
def opco() -> ScriptedOpco:
    return ScriptedOpco()


@pytest.fixture
def gateway(opco: ScriptedOpco) -> Iterator[HttpOpcoGateway]:
    with HttpOpcoGateway(IDENTITY, transport=httpx.MockTransport(opco)) as client:
        yield client


def without_durations(grown: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> dict[str, float]:
    return {
        f"{name}{dict(labels)}": value
        for (name, labels), value in grown.items()
        if not name.startswith("convergence_opco_call_duration")
    }


def test_each_exchange_is_counted_by_outcome_and_timed(opco: ScriptedOpco, gateway: HttpOpcoGateway) -> None:
    akto = endpoint(Opco.AKTO, **KEY_ONLY)

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    def refused_connection(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    opco.on(
        STATUS,
        ok,
        answer(400, {"errors": [{"description": "invalide"}]}),
        answer(403, {"message": "clé inconnue"}),
        answer(503),
        timeout,
        refused_connection,
    )
    opco.on(f"/SorApiEchangeCFA/v{akto.protocol}/dossiers", answer(404))
    figures = Figures()

    gateway.service_status(akto)
    assert gateway.find_dossier(akto, "CVG-1") is None
    with pytest.raises(RefusedByOpco):
        gateway.service_status(akto)
    with pytest.raises(KeyRejected):
        gateway.service_status(akto)
    for _ in range(3):
        with pytest.raises(TransientOpcoError):
            gateway.service_status(akto)

    grown = figures.grown()
    assert without_durations(grown) == without_durations(
        {
            calls("AKTO", "ok"): 1,
            calls("AKTO", "not_found"): 1,
            calls("AKTO", "refused"): 1,
            calls("AKTO", "key_rejected"): 1,
            calls("AKTO", "server_error"): 1,
            calls("AKTO", "timeout"): 1,
            calls("AKTO", "transport"): 1,
            ("convergence_opco_key_rejections_total", (("opco", "AKTO"),)): 1,
        }
    )
    assert grown[timed("AKTO")] == 7
    assert (
        grown[
            ("convergence_opco_call_duration_seconds_bucket", (("endpoint", "api"), ("le", "+Inf"), ("opco", "AKTO")))
        ]
        == 7
    )


def test_token_endpoint_failures_are_counted_by_reason(opco: ScriptedOpco, gateway: HttpOpcoGateway) -> None:
    atlas = endpoint(Opco.ATLAS)
    opco.on(TOKEN, answer(401, {"error": "invalid_client"}), answer(500))
    figures = Figures()
    with pytest.raises(KeyRejected):
        gateway.service_status(atlas)
    with pytest.raises(OpcoError):
        gateway.service_status(atlas)
    assert without_durations(figures.grown()) == without_durations(
        {
            calls("ATLAS", "key_rejected", "token"): 1,
            calls("ATLAS", "server_error", "token"): 1,
            ("convergence_opco_token_failures_total", (("opco", "ATLAS"), ("reason", "refused"))): 1,
            ("convergence_opco_token_failures_total", (("opco", "ATLAS"), ("reason", "error"))): 1,
        }
    )
    assert not opco.to(STATUS)  # no token: the API was not called


def test_a_key_refused_after_a_fresh_token_is_one_rejection(opco: ScriptedOpco, gateway: HttpOpcoGateway) -> None:
    opco.on(TOKEN, opco.token()).on(STATUS, answer(401, {"message": "unauthorized"}))
    figures = Figures()
    with pytest.raises(KeyRejected):
        gateway.service_status(endpoint(Opco.ATLAS))
    assert without_durations(figures.grown()) == without_durations(
        {
            calls("ATLAS", "ok", "token"): 2,  # the first token, and the one fetched after the API's 401
            calls("ATLAS", "key_rejected"): 2,
            ("convergence_opco_key_rejections_total", (("opco", "ATLAS"),)): 1,
        }
    )

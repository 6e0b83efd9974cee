"""The CFA Dock directory of OPCOs by SIRET (https://www.cfadock.fr/Home/ApiDescription), as the State's own
apps call it: `GET https://www.cfadock.fr/api/opcos?siret=<SIRET>`, no key, answering

    {"searchStatus": "OK" | "MULTIPLE_OPCO" | "NOT_FOUND", "opcoName": "OPCO 2i", "opcoSiren": "…",
     "idcc": 3248, "url": "…", "filters": {"siret": "…"}}

(mission-apprentissage/contrat server/src/common/apis/cfaDock.ts; mission-apprentissage/labonnealternance, its
ICFADock type and the searchStatus cases its recruiter service handles). CFA Dock draws on France compétences'
SIRET → OPCO table. Every failure — connection, timeout, an error status, an answer that cannot be read — is an
UNAVAILABLE answer: the lookup fails soft and the IDCC table's answer stands."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from application.opco.opco_lookup import OpcoAnswer
from application.ports import Clock
from domain.opco.opco_lookup import LookupOutcome
from domain.opco.opcos import opco_from_name

SOURCE = "cfadock"
_OUTCOMES = {"OK": LookupOutcome.FOUND, "MULTIPLE_OPCO": LookupOutcome.MULTIPLE, "NOT_FOUND": LookupOutcome.NOT_FOUND}

log = logging.getLogger(__name__)


class CfaDockDirectory:
    def __init__(self, base_url: str, clock: Clock, *, timeout: float, client: httpx.Client | None = None) -> None:
        self._url = f"{base_url.rstrip('/')}/opcos"
        self._clock = clock
        self._client = client or httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)))

    def look_up(self, siret: str) -> OpcoAnswer:
        try:
            response = self._client.get(self._url, params={"siret": siret}, headers={"Accept": "application/json"})
            response.raise_for_status()
            return self._answer(siret, response.json())
        except (httpx.HTTPError, ValueError) as error:
            log.warning("CFA Dock lookup of %s failed: %s", siret, type(error).__name__)
            return self._unavailable(siret)

    def close(self) -> None:
        self._client.close()

    def _answer(self, siret: str, body: Any) -> OpcoAnswer:
        if not isinstance(body, dict) or body.get("searchStatus") not in _OUTCOMES:
            raise ValueError("not a CFA Dock answer")
        outcome = _OUTCOMES[body["searchStatus"]]
        name = body.get("opcoName") if isinstance(body.get("opcoName"), str) else None
        opco = opco_from_name(name) if outcome is LookupOutcome.FOUND else None
        if outcome is LookupOutcome.FOUND and opco is None:
            raise ValueError(f"an OPCO name that names no OPCO: {name!r}")
        idcc = body.get("idcc")
        return OpcoAnswer(
            siret=siret,
            outcome=outcome,
            source=SOURCE,
            checked_at=self._clock.now(),
            opco=opco,
            idcc=str(idcc).zfill(4) if isinstance(idcc, int | str) and str(idcc).isdigit() else None,
            opco_name=name,
        )

    def _unavailable(self, siret: str) -> OpcoAnswer:
        return OpcoAnswer(siret=siret, outcome=LookupOutcome.UNAVAILABLE, source=SOURCE, checked_at=self._clock.now())

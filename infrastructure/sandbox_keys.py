"""On the embedded default every OPCO is the sandbox: a CFA without a key there gets one, so nothing waits."""

from __future__ import annotations

import logging

import httpx

from application.access import Principal, Role
from application.opco_accounts import OpcoAccounts
from domain.opcos import Opco

log = logging.getLogger("convergence.sandbox_keys")
SANDBOX = Principal(actor="sandbox", role=Role.ADMIN, cfa_siret=None)
# The software's OAuth client at the sandbox (see infrastructure.opco_sandbox: its default oauth_clients).
SANDBOX_CLIENT = ("convergence-sandbox", "sandbox-secret")


class SandboxKeys:
    def __init__(self, sandbox_url: str, accounts: OpcoAccounts, timeout: float = 10.0) -> None:
        self._url = sandbox_url.rstrip("/")
        self._accounts = accounts
        self._timeout = timeout

    def ensure(self, cfa_siret: str, opco: Opco) -> bool:
        """Give the CFA a sandbox key at `opco` unless it has credentials there; True if one was set."""
        if self._accounts.account(cfa_siret, opco) is not None:
            return False
        try:
            answer = httpx.post(
                f"{self._url}/_sandbox/keys", json={"opco": opco.value, "siret": cfa_siret}, timeout=self._timeout
            )
            answer.raise_for_status()
        except httpx.HTTPError as error:
            log.warning("no sandbox key for %s at %s: %s", cfa_siret, opco, error)
            return False
        client_id, secret = SANDBOX_CLIENT if self._accounts.profiles[opco].oauth else (None, None)
        self._accounts.set_credentials(
            SANDBOX, cfa_siret, opco, api_key=answer.json()["apiKey"], client_id=client_id, client_secret=secret
        )
        log.info("sandbox key set for %s at %s", cfa_siret, opco)
        return True

"""On the embedded default every OPCO is the sandbox: a CFA without credentials there gets them, so nothing waits."""

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
        """Give the CFA, at `opco`, what it lacks of a sandbox key, the software's OAuth client there and a DPoP key
        (each only where the OPCO's dialect needs it; nothing set by someone else is replaced); True if any was set."""
        profile, account = self._accounts.profiles[opco], self._accounts.account(cfa_siret, opco)
        changed = False
        if account is None or account.sealed_api_key is None:
            key = self._sandbox_key(cfa_siret, opco)
            if key is None:
                return False
            self._accounts.set_credentials(SANDBOX, cfa_siret, opco, api_key=key)
            changed = True
        if profile.oauth and (account is None or account.client_id is None):
            client_id, secret = SANDBOX_CLIENT
            self._accounts.set_oauth_client(SANDBOX, cfa_siret, opco, client_id=client_id, client_secret=secret)
            changed = True
        if profile.dpop and (account is None or account.dpop_key is None):
            self._accounts.set_dpop_key(SANDBOX, cfa_siret, opco, generate="ES256")
            changed = True
        if changed:
            log.info("sandbox credentials set for %s at %s", cfa_siret, opco)
        return changed

    def _sandbox_key(self, cfa_siret: str, opco: Opco) -> str | None:
        try:
            answer = httpx.post(
                f"{self._url}/_sandbox/keys", json={"opco": opco.value, "siret": cfa_siret}, timeout=self._timeout
            )
            answer.raise_for_status()
        except httpx.HTTPError as error:
            log.warning("no sandbox key for %s at %s: %s", cfa_siret, opco, error)
            return None
        key: str = answer.json()["apiKey"]
        return key

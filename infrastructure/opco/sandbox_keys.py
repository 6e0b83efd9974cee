"""On the embedded default every OPCO is the sandbox: a CFA without credentials there gets them, so nothing waits.

The sandbox's /_sandbox/* routes are the operator's (`opco_sandbox.admin_auth`): this service calls them with the
sandbox's admin token, and gives the CFAs' accounts the sandbox's own OAuth client, which it reads from the sandbox
(drawn per installation, never a constant)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import threading

import httpx

from application.access.access import Principal, Role
from application.opco.opco_accounts import OpcoAccounts
from domain.opco.opcos import Opco
from infrastructure.access.secret_box import key_from_file
from infrastructure.settings import Settings

log = logging.getLogger("convergence.sandbox_keys")
SANDBOX = Principal(actor="sandbox", role=Role.ADMIN, cfa_siret=None)
_PURPOSE = b"convergence: the operator token of this installation's OPCO sandbox"


def installation_token(settings: Settings) -> str:
    """A token only this installation can compute: derived (HMAC-SHA256) from its secret key, which is random per
    installation (`CONVERGENCE_SECRET_KEY`, or the file created on first start)."""
    key = (
        settings.secret_key.get_secret_value().encode()
        if settings.secret_key
        else key_from_file(settings.secret_key_file)
    )
    digest = hmac.new(key, _PURPOSE, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sandbox_operator_token(settings: Settings, *, mounted: bool) -> str:
    """The Bearer of /_sandbox/*: mounted in `serve`, the operator token (CONVERGENCE_ADMIN_TOKEN); standalone (and at
    CONVERGENCE_SANDBOX_URL), CONVERGENCE_SANDBOX_ADMIN_TOKEN; where that is not set, the installation's token."""
    configured = settings.admin_token if mounted else settings.sandbox_admin_token
    return configured.get_secret_value() if configured else installation_token(settings)


class SandboxKeys:
    def __init__(self, sandbox_url: str, accounts: OpcoAccounts, admin_token: str, timeout: float = 10.0) -> None:
        self._url = sandbox_url.rstrip("/")
        self._accounts = accounts
        self._headers = {"Authorization": f"Bearer {admin_token}"}
        self._timeout = timeout
        self._client: tuple[str, str] | None = None
        self._lock = threading.Lock()

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
            try:
                client_id, secret = self._oauth_client()
            except (httpx.HTTPError, LookupError, TypeError) as error:
                log.warning("no sandbox OAuth client for %s at %s: %s", cfa_siret, opco, error)
                return changed
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
                f"{self._url}/_sandbox/keys",
                json={"opco": opco.value, "siret": cfa_siret},
                headers=self._headers,
                timeout=self._timeout,
            )
            answer.raise_for_status()
        except (httpx.HTTPError, LookupError, TypeError) as error:
            log.warning("no sandbox key for %s at %s: %s", cfa_siret, opco, error)
            return None
        key: str = answer.json()["apiKey"]
        return key

    def _oauth_client(self) -> tuple[str, str]:
        """The sandbox's OAuth client (its first), read once from GET /_sandbox/oauth-clients."""
        with self._lock:
            if self._client is None:
                answer = httpx.get(f"{self._url}/_sandbox/oauth-clients", headers=self._headers, timeout=self._timeout)
                answer.raise_for_status()
                first = answer.json()[0]
                self._client = (str(first["clientId"]), str(first["clientSecret"]))
            return self._client

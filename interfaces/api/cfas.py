"""A CFA's accounts at the OPCOs: credentials (write-only) and what each OPCO offers and last said."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from application.opco_accounts import AccountView
from domain.cerfa import Siret
from domain.opcos import Opco
from interfaces.api.auth import CurrentPrincipal, Services
from interfaces.api.schemas import CredentialsIn, OpcoAccountOut

router = APIRouter(prefix="/cfas/{siret}/opcos", tags=["opco accounts"])


@router.get("", response_model=list[OpcoAccountOut])
def opco_accounts(siret: Siret, who: CurrentPrincipal, services: Services) -> list[dict[str, Any]]:
    """Each OPCO: its capabilities, whether this CFA has a key there (last 4 characters, status, expiry), and the
    last contact and last error. Secrets are never returned."""
    return [_account_body(view) for view in services.accounts.overview(who, siret)]


@router.put("/{opco}/credentials", response_model=OpcoAccountOut)
def set_credentials(
    siret: Siret, opco: Opco, body: CredentialsIn, who: CurrentPrincipal, services: Services
) -> dict[str, Any]:
    """Set the CFA's API key at this OPCO (and the OAuth client where the OPCO requires one); admin of the CFA or
    operator. Dossiers waiting for a key at this OPCO are sent as soon as it is set."""
    services.accounts.set_credentials(
        who, siret, opco, api_key=body.apiKey, client_id=body.clientId, client_secret=body.clientSecret
    )
    [view] = [v for v in services.accounts.overview(who, siret) if v.profile.opco is opco]
    return _account_body(view)


def _account_body(view: AccountView) -> dict[str, Any]:
    profile, account, contact = view.profile, view.account, view.contact
    return {
        "opco": profile.opco.value,
        "protocol": profile.protocol,
        "capabilities": {
            "contracts": profile.contracts,
            "invoices": profile.invoices,
            "invoiceStates": profile.invoice_states,
            "ruptures": profile.ruptures,
            "oauth": profile.oauth,
        },
        "reachable": profile.base_url is not None,
        "keySet": bool(account and account.key_last4),
        "keyLast4": account.key_last4 if account else None,
        "keyStatus": view.key_status.value,
        "keyExpiresOn": account.key_expires_on.isoformat() if account and account.key_expires_on else None,
        "keyComment": account.key_comment if account else None,
        "clientId": account.client_id if account else None,
        "lastContactAt": contact.last_contact_at.isoformat() if contact and contact.last_contact_at else None,
        "lastError": contact.last_error if contact else None,
        "lastErrorAt": contact.last_error_at.isoformat() if contact and contact.last_error_at else None,
    }

"""A CFA's accounts at the OPCOs: credentials (write-only), and what each OPCO offers, how it is reached and last
said.

Each change answers the account with its version as ETag; `If-Match` makes it conditional (412 when stale) and
`Idempotency-Key` makes it safe to send again, as every other command."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse

from application.contracts.commands import Outcome
from application.opco.opco_accounts import AccountView
from domain.cerfa import Siret
from domain.opco.opco_account import OpcoAccount
from domain.opco.opcos import Opco
from interfaces.api.access.auth import CurrentPrincipal, Services
from interfaces.api.contracts.contracts import IdempotencyKey
from interfaces.api.contracts.representation import etag
from interfaces.api.contracts.schemas import CredentialsIn, OpcoAccountOut
from interfaces.api.opco.opco_account_schemas import DpopKeyIn, OAuthClientIn
from interfaces.api.preconditions import expected_version

router = APIRouter(prefix="/cfas/{siret}/opcos", tags=["opco accounts"])
IfMatch = Annotated[str | None, Header(alias="If-Match", description='the ETag of the account, e.g. "3"')]


@router.get("", response_model=list[OpcoAccountOut])
def opco_accounts(siret: Siret, who: CurrentPrincipal, services: Services) -> list[dict[str, Any]]:
    """Each OPCO: its capabilities, its address and authentication dialect, whether it can be reached here and
    whether this CFA's dossiers can go (and if not, why), the key (last 4 characters, status, expiry), the
    software's OAuth client (never its secret), the DPoP key (its public part), and the last contact and error."""
    return [account_body(view) for view in services.accounts.overview(who, siret)]


@router.put("/{opco}/credentials", response_model=OpcoAccountOut)
def set_credentials(
    siret: Siret,
    opco: Opco,
    body: CredentialsIn,
    who: CurrentPrincipal,
    services: Services,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Set the CFA's API key at this OPCO (and the software's OAuth client there when both its id and secret are
    given; the one set stays otherwise); admin of the CFA or operator. Dossiers waiting for it go as soon as the
    account is ready."""
    outcome = services.accounts.set_credentials(
        who,
        siret,
        opco,
        api_key=body.apiKey,
        client_id=body.clientId,
        client_secret=body.clientSecret,
        expected_version=expected_version(if_match, required=False),
        idempotency_key=idempotency_key,
    )
    return _answer(outcome, siret, opco, who, services)


@router.put("/{opco}/oauth-client", response_model=OpcoAccountOut)
def set_oauth_client(
    siret: Siret,
    opco: Opco,
    body: OAuthClientIn,
    who: CurrentPrincipal,
    services: Services,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Set the software's OAuth2 client at this OPCO (AKTO, ATLAS, Mobilités, OPCO EP, AFDAS ask for a token);
    admin of the CFA or operator. The secret is stored sealed and never shown: the answer says it is set."""
    outcome = services.accounts.set_oauth_client(
        who,
        siret,
        opco,
        client_id=body.clientId,
        client_secret=body.clientSecret,
        expected_version=expected_version(if_match, required=False),
        idempotency_key=idempotency_key,
    )
    return _answer(outcome, siret, opco, who, services)


@router.post("/{opco}/dpop-key", response_model=OpcoAccountOut)
def set_dpop_key(
    siret: Siret,
    opco: Opco,
    body: DpopKeyIn,
    who: CurrentPrincipal,
    services: Services,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Set the key signing the DPoP proofs at an OPCO that binds its tokens to a key (AFDAS): made here
    (`generate`; register the `dpopKey.publicJwk` of the answer with the OPCO where it asks) or the CFA's own
    (`privateKey`). The private key is stored sealed and never shown. The same key again changes nothing; replacing
    the key set needs If-Match (428 without)."""
    outcome = services.accounts.set_dpop_key(
        who,
        siret,
        opco,
        generate=body.generate,
        private_key=body.privateKey,
        expected_version=expected_version(if_match, required=False),
        idempotency_key=idempotency_key,
    )
    return _answer(outcome, siret, opco, who, services)


def _answer(
    outcome: Outcome[OpcoAccount], siret: str, opco: Opco, who: CurrentPrincipal, services: Services
) -> JSONResponse:
    [view] = [v for v in services.accounts.overview(who, siret) if v.profile.opco is opco]
    if outcome.replayed:  # the account as that request left it
        view = AccountView(view.profile, outcome.aggregate, view.contact, view.not_ready)
    headers = {"ETag": etag(outcome.aggregate.version)}
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(account_body(view), headers=headers)


def account_body(view: AccountView) -> dict[str, Any]:
    profile, account, contact = view.profile, view.account, view.contact
    unreachable = profile.unreachable()
    dpop = account.dpop_key if account else None
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
        "reachable": unreachable is None,
        "unreachableReason": unreachable,
        "ready": view.not_ready is None,
        "notReady": {"code": view.not_ready.code, "message": view.not_ready.message} if view.not_ready else None,
        "address": {
            "environment": profile.environment.value,
            "baseUrl": profile.base_url,
            "invoicePath": profile.invoice_path,
        },
        "auth": {
            "dialect": profile.auth.value,
            "tokenUrl": profile.token_url,
            "scope": profile.oauth_scope,
            "dpop": profile.dpop,
        },
        "keySet": bool(account and account.key_last4),
        "keyLast4": account.key_last4 if account else None,
        "keyStatus": view.key_status.value,
        "keyExpiresOn": account.key_expires_on.isoformat() if account and account.key_expires_on else None,
        "keyComment": account.key_comment if account else None,
        "clientId": account.client_id if account else None,
        "oauthClient": _client_body(account),
        "dpopKey": {
            "alg": dpop.alg,
            "thumbprint": dpop.thumbprint,
            "publicJwk": dpop.public_jwk,
            "setAt": dpop.set_at.isoformat(),
        }
        if dpop
        else None,
        "version": account.version if account else 0,
        "lastContactAt": contact.last_contact_at.isoformat() if contact and contact.last_contact_at else None,
        "lastError": contact.last_error if contact else None,
        "lastErrorAt": contact.last_error_at.isoformat() if contact and contact.last_error_at else None,
    }


def _client_body(account: OpcoAccount | None) -> dict[str, Any] | None:
    if account is None or account.client_id is None:
        return None
    set_at = account.client_set_at.isoformat() if account.client_set_at else None
    return {"clientId": account.client_id, "secretSet": account.sealed_client_secret is not None, "setAt": set_at}

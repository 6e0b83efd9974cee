"""A CFA's billing profile: who issues its invoices, where they are paid, and how they are numbered.

`PUT` answers the profile with its version as ETag; `If-Match` makes it conditional (412 when stale) and
`Idempotency-Key` makes it safe to send again, as every other command. The IBAN is never shown in clear."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse

from domain.cerfa import Siret
from domain.invoicing.billing_profile import BillingDetails, BillingProfile
from interfaces.api.access.auth import CurrentPrincipal, Services
from interfaces.api.contracts.contracts import IdempotencyKey
from interfaces.api.contracts.representation import etag
from interfaces.api.preconditions import expected_version

router = APIRouter(prefix="/cfas/{siret}/profile", tags=["billing profile"])
IfMatch = Annotated[str | None, Header(alias="If-Match", description='the ETag of the profile, e.g. "3"')]


@router.get("")
def get_billing_profile(siret: Siret, who: CurrentPrincipal, services: Services) -> JSONResponse:
    """The CFA's billing profile (404 until set): the IBAN by its last 4 characters, the numbering's prefix and
    the next number it will give."""
    profile = services.invoices.billing.get(who, siret)
    return JSONResponse(profile_body(profile), headers={"ETag": etag(profile.version)})


@router.put("")
def set_billing_profile(
    siret: Siret,
    body: BillingDetails,
    who: CurrentPrincipal,
    services: Services,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Set the CFA's billing profile (admin of the CFA or operator): legal name, address, UAI, declaration number
    (NDA, 11 digits), IBAN, BIC and invoice numbering. Without it no invoice can be submitted. A prefix that has
    issued numbers continues where it stands (`nextInvoiceNumber` may only be the next one); a new prefix starts at
    `nextInvoiceNumber`, or 1."""
    outcome = services.invoices.billing.set(
        who,
        siret,
        body,
        expected_version=expected_version(if_match, required=False),
        idempotency_key=idempotency_key,
    )
    headers = {"ETag": etag(outcome.aggregate.version)}
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(profile_body(outcome.aggregate), headers=headers)


def profile_body(profile: BillingProfile) -> dict[str, Any]:
    details = profile.details or {}
    return {
        "siret": profile.cfa_siret,
        **{key: value for key, value in details.items() if key != "invoicePrefix"},
        "ibanMasked": profile.iban_masked,
        "invoiceNumbering": {
            "prefix": profile.prefix,
            "nextNumber": profile.next_number,
            "issued": len(profile.allocations),
        },
        "version": profile.version,
    }

"""The CFAs' billing profiles: set by an admin of the CFA or the operator, read by the CFA, and the invoice numbers
allocated from them.

Setting a profile is a command run as every other (application/contracts/commands.py): one transaction, `If-Match` on
the profile's version, `Idempotency-Key` honoured. The IBAN is sealed before it reaches an event and shown by its last
4 characters only; an Idempotency-Key record keeps a keyed digest of it, never the clear text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application

from application.access.access import Principal
from application.access.idempotency import IdempotentRequest
from application.contracts.commands import Commands, Outcome, Reader
from application.errors import ApplicationError, NotFound, VersionMismatch
from application.ports import SecretBox
from domain.invoicing.billing_profile import BillingDetails, BillingProfile, billing_profile_id, missing_message
from domain.problems import Problem


class _OpenedMeanwhile(ApplicationError):
    """Another request opened the profile while this one was opening it: apply the change to that one."""


@dataclass(frozen=True, slots=True)
class IssuerDetails:
    """What an invoice document says of the CFA that issues it
    (application.invoices.invoice_document.BillingDetails)."""

    legal_name: str
    address_lines: tuple[str, ...]
    uai: str
    declaration_number: str
    iban: str = field(repr=False)
    bic: str


class BillingProfiles:
    def __init__(self, app: Application[UUID], box: SecretBox) -> None:
        self._app = app
        self._box = box
        self._commands = Commands(app)

    def set(
        self,
        principal: Principal,
        cfa_siret: str,
        details: BillingDetails,
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome[BillingProfile]:
        if not principal.can_see(cfa_siret):
            raise NotFound("CFA", cfa_siret)
        principal.require_admin()
        digest = self._box.digest(details.iban)
        arguments = {**details.model_dump(exclude={"iban"}), "iban": digest}
        request = IdempotentRequest.of_command(idempotency_key, principal, "/profile", arguments, expected_version)

        def apply(profile: BillingProfile) -> None:
            sealed = self._box.seal(details.iban) if digest != profile.iban_digest else profile.sealed_iban
            assert sealed is not None
            profile.set_details(details, sealed, digest, principal.actor)

        reader = self._reader(principal)
        ident = billing_profile_id(cfa_siret)
        exists = self.profile(cfa_siret) is not None
        if expected_version is not None and not exists:
            raise VersionMismatch(expected_version, 0)
        if not exists:

            def open_it() -> tuple[BillingProfile, list[Any]]:
                profile = BillingProfile(cfa_siret=cfa_siret, actor=principal.actor)
                apply(profile)
                return profile, []

            try:
                return self._commands.create(open_it, reader, request=request, collided=_opened_meanwhile)
            except _OpenedMeanwhile:
                pass
        return self._commands.change(reader, ident, apply, expected_version=expected_version, request=request)

    def get(self, principal: Principal, cfa_siret: str) -> BillingProfile:
        if not principal.can_see(cfa_siret):
            raise NotFound("CFA", cfa_siret)
        profile = self.profile(cfa_siret)
        if profile is None or profile.details is None:
            raise NotFound("billing profile of CFA", cfa_siret)
        return profile

    def profile(self, cfa_siret: str, version: int | None = None) -> BillingProfile | None:
        try:
            profile: BillingProfile = self._app.repository.get(billing_profile_id(cfa_siret), version=version)
        except AggregateNotFoundError:
            return None
        return profile

    def issuer(self, cfa_siret: str) -> IssuerDetails | None:
        """The CFA as its invoices name it (the IBAN opened), or None without a complete profile."""
        profile = self.profile(cfa_siret)
        if profile is None or profile.details is None or profile.sealed_iban is None:
            return None
        details = profile.details
        street = [details["adresse1"], *([details["adresse2"]] if details.get("adresse2") else [])]
        return IssuerDetails(
            legal_name=details["legalName"],
            address_lines=(*street, f"{details['codePostal']} {details['commune']}"),
            uai=details["uai"],
            declaration_number=details["declarationNumber"],
            iban=self._box.open(profile.sealed_iban),
            bic=details["bic"],
        )

    def problems(self, cfa_siret: str) -> list[Problem]:
        """What keeps this CFA from issuing an invoice: nothing once its profile is complete."""
        profile = self.profile(cfa_siret)
        if profile is None:
            return [Problem("billingProfile", "billing_profile_missing", missing_message(cfa_siret))]
        problem = profile.incomplete()
        return [problem] if problem else []

    def allocate(self, cfa_siret: str, invoice_id: UUID, actor: str) -> Outcome[BillingProfile]:
        """The invoice's number from the CFA's sequence, on its own (an invoice's submission allocates it in its
        own transaction instead): a save lost to another allocation is retried on the newer profile."""
        ident = billing_profile_id(cfa_siret)
        if self.profile(cfa_siret) is None:
            raise NotFound("billing profile of CFA", cfa_siret)
        return self._commands.change(self._read, ident, lambda p: p.allocate_number(invoice_id, actor))

    def _reader(self, principal: Principal) -> Reader[BillingProfile]:
        def read(ident: UUID, version: int | None) -> BillingProfile:
            profile = self._read(ident, version)
            if not principal.can_see(profile.cfa_siret):
                raise NotFound("billing profile", ident)
            return profile

        return read

    def _read(self, ident: UUID, version: int | None) -> BillingProfile:
        try:
            profile: BillingProfile = self._app.repository.get(ident, version=version)
        except AggregateNotFoundError:
            raise NotFound("billing profile", ident) from None
        return profile


def _opened_meanwhile(_: BillingProfile) -> ApplicationError:
    return _OpenedMeanwhile()

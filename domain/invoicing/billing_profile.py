"""A CFA's billing profile: who issues its invoices (legal name, address, SIRET, UAI, declaration number), where
they are paid (IBAN sealed, BIC), and its invoice numbering: one sequence per prefix, without gaps.

A number is allocated by an event of the profile saved in the same transaction as the invoice's submission: two
submissions at once collide on the profile's version (one is retried on the newer version), and a failed save
leaves neither the submission nor the number, so the sequence has no gap."""

from __future__ import annotations

import re
from typing import Annotated, Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban

from domain.cerfa.formats import CodePostal, Text, Uai
from domain.copying import CopiedByPickle
from domain.errors import InvalidValue
from domain.ids import named_id
from domain.problems import Problem

NUMBER_DIGITS = 5  # FAC-2026-00042: the number part zero-padded to at least this many digits


def billing_profile_id(cfa_siret: str) -> UUID:
    return named_id("cfas", cfa_siret, "billing-profile")


def _iban(value: str) -> str:
    compact = stdnum_iban.compact(value)
    if not stdnum_iban.is_valid(compact):
        raise PydanticCustomError("iban_invalid", "not a valid IBAN (country, length or check digits)")
    return compact


def _bic(value: str) -> str:
    compact = stdnum_bic.compact(value)
    if not stdnum_bic.is_valid(compact):
        raise PydanticCustomError("bic_invalid", "not a valid BIC (ISO 9362: 8 or 11 characters)")
    return compact


def _declaration(value: str) -> str:
    number = re.sub(r"\s", "", value)
    if not re.fullmatch(r"[0-9]{11}", number):
        raise PydanticCustomError("declaration_number_format", "a declaration number (NDA) is 11 digits")
    return number


def _prefix(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_/-]{0,19}", value):
        raise PydanticCustomError(
            "invoice_prefix_format", "at most 20 letters, digits, '-', '_' or '/', starting with a letter or digit"
        )
    return value


Iban = Annotated[str, AfterValidator(_iban)]
Bic = Annotated[str, AfterValidator(_bic)]
DeclarationNumber = Annotated[str, AfterValidator(_declaration)]
InvoicePrefix = Annotated[str, AfterValidator(_prefix)]


class BillingDetails(BaseModel):
    """What the CFA sets; the SIRET is the CFA's own, from where the profile lives."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    legalName: Text
    adresse1: Text
    adresse2: Text | None = None
    codePostal: CodePostal
    commune: Text
    uai: Uai
    declarationNumber: DeclarationNumber
    iban: Iban
    bic: Bic
    invoicePrefix: InvoicePrefix
    nextInvoiceNumber: int | None = Field(default=None, ge=1, le=999_999_999)

    def public(self) -> dict[str, Any]:
        """Everything but the IBAN, as stored in clear."""
        return self.model_dump(exclude={"iban", "nextInvoiceNumber"})


class BillingProfile(CopiedByPickle, Aggregate):
    @staticmethod
    def create_id(cfa_siret: str, actor: str) -> UUID:
        return billing_profile_id(cfa_siret)

    @event("Opened")
    def __init__(self, cfa_siret: str, actor: str) -> None:
        self.cfa_siret = cfa_siret
        self.details: dict[str, Any] | None = None
        self.sealed_iban: str | None = None
        self.iban_digest: str | None = None
        self.iban_last4: str | None = None
        self.prefix: str | None = None
        self.next_number = 1
        self.last_issued: dict[str, int] = {}  # per prefix, the last number allocated
        self.allocations: dict[str, str] = {}  # invoice id -> its number

    def set_details(self, details: BillingDetails, sealed_iban: str, iban_digest: str, actor: str) -> None:
        """The IBAN comes sealed, with a keyed digest telling whether it is the one set already. A prefix that has
        issued numbers continues its sequence: its next number is the one after the last issued (another would
        leave a gap or a duplicate)."""
        last = self.last_issued.get(details.invoicePrefix, 0)
        wanted = details.nextInvoiceNumber
        if last and wanted is not None and wanted != last + 1:
            raise InvalidValue(
                "nextInvoiceNumber",
                "numbering_without_gaps",
                f"{details.invoicePrefix} has issued up to {last}: its next number is {last + 1}",
            )
        next_number = wanted or (last + 1 if last or details.invoicePrefix != self.prefix else self.next_number)
        public = details.public()
        if (public, iban_digest, next_number) == (self.details, self.iban_digest, self.next_number):
            return
        self._details_set(
            details=public,
            sealed_iban=sealed_iban,
            iban_digest=iban_digest,
            iban_last4=details.iban[-4:],
            next_number=next_number,
            actor=actor,
        )

    def allocate_number(self, invoice_id: UUID, actor: str) -> str:
        """The invoice's number: the next of the sequence, or the one it was given already."""
        if (given := self.allocations.get(str(invoice_id))) is not None:
            return given
        if (problem := self.incomplete()) is not None:
            raise InvalidValue(problem.field, problem.code, problem.message)
        assert self.prefix is not None
        numero = f"{self.prefix}{self.next_number:0{NUMBER_DIGITS}d}"
        self._number_allocated(invoice_id=str(invoice_id), numero=numero, prefix=self.prefix, actor=actor)
        return numero

    def incomplete(self) -> Problem | None:
        if self.details is None or self.sealed_iban is None or self.prefix is None:
            return Problem("billingProfile", "billing_profile_missing", missing_message(self.cfa_siret))
        return None

    @property
    def iban_masked(self) -> str | None:
        return f"****{self.iban_last4}" if self.iban_last4 else None

    @event("DetailsSet")
    def _details_set(
        self,
        details: dict[str, Any],
        sealed_iban: str,
        iban_digest: str,
        iban_last4: str,
        next_number: int,
        actor: str,
    ) -> None:
        self.details = dict(details)
        self.sealed_iban = sealed_iban
        self.iban_digest = iban_digest
        self.iban_last4 = iban_last4
        self.prefix = details["invoicePrefix"]
        self.next_number = next_number

    @event("NumberAllocated")
    def _number_allocated(self, invoice_id: str, numero: str, prefix: str, actor: str) -> None:
        self.allocations[invoice_id] = numero
        self.last_issued[prefix] = self.next_number
        self.next_number += 1


def missing_message(cfa_siret: str) -> str:
    return (
        f"the billing profile of CFA {cfa_siret} is not set (PUT /cfas/{cfa_siret}/profile): no invoice can be issued"
    )

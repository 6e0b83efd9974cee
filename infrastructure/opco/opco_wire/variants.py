"""Where the two real bodies of POST /dossiers differ (opco-wire.md §2.2b), the choice made for each OPCO.

Each field of `WireVariant` is one unknown of the wire (docs/wire.md, "Unknowns", U1–U7): the official
specification, once obtained, is applied here and nowhere else. `OBSERVED` takes, difference by difference, the form
the sources support best; `CERFACIL` and `WEDOF` reproduce each real client's body as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from domain.opco.opcos import Opco


class Client(StrEnum):
    """The real clients whose bodies were read (opco-wire.md §2.2, §2.2b)."""

    CERFACIL = "CerFacil"  # POSTs to AKTO, ATLAS, AFDAS, OPCO EP and Mobilités directly
    WEDOF = "Wedof"  # its documented "CFA Dock v1" payload, which Wedof forwards to the OPCOs


class DateForm(StrEnum):
    PARIS = "paris"  # 2026-09-01T00:00:00+02:00: midnight in France, with its offset that day (CerFacil, §8)
    UTC_MIDNIGHT = "utc-midnight"  # 2026-09-01T00:00:00+00:00 (Wedof)


@dataclass(frozen=True, slots=True)
class WireVariant:
    name: str
    version_cerfa: str  # U1: versionCERFA
    signature_key: str  # U2: the spelling of the key that says the Cerfa's signature is probative
    rncp_prefix: bool  # U3: formation.rncp as "RNCP35340" (True) or "35340"
    date_form: DateForm  # U4: how a date of the Cerfa is written
    maitre2_beside_cerfa: bool  # U5: maitre2 beside the `cerfa` object instead of inside it
    blank_absent: bool  # U6: an absent value sent as "" (and an absent maitre2 as null) instead of left out
    numero_interne_in_body: bool  # U7: the CFA's own numeroInterne sent in the body
    keys_of: Client | None = None  # only the keys this client sends; None: every key of the description


OBSERVED: Final = WireVariant(
    name="observed",
    version_cerfa="10103*14",  # the form our Cerfa model fills (version 14); Wedof; GSMS-NOTE "Cerfa V14"
    signature_key="CERFAsignatureProbante",  # CerFacil, the client that talks to five OPCOs directly
    rncp_prefix=True,  # CerFacil; the contract app's pattern ^(RNCP)?[0-9]{2,5}$ takes both
    date_form=DateForm.PARIS,  # CerFacil and opco-wire.md §8
    maitre2_beside_cerfa=False,  # Wedof and every other block; CerFacil's placement is probably a bug
    blank_absent=False,  # Wedof: a typed reader meets no "" in a date or a number
    numero_interne_in_body=True,  # [I] the dossier's cerfa carries numeroInterne when read back (§3.1)
)

CERFACIL: Final = WireVariant(
    name="cerfacil",
    version_cerfa="10103*10",
    signature_key="CERFAsignatureProbante",
    rncp_prefix=True,
    date_form=DateForm.PARIS,
    maitre2_beside_cerfa=True,
    blank_absent=True,
    numero_interne_in_body=False,
    keys_of=Client.CERFACIL,
)

WEDOF: Final = WireVariant(
    name="wedof",
    version_cerfa="10103*14",
    signature_key="CERFASignatureProbante",
    rncp_prefix=False,
    date_form=DateForm.UTC_MIDNIGHT,
    maitre2_beside_cerfa=False,
    blank_absent=False,
    numero_interne_in_body=False,
    keys_of=Client.WEDOF,
)

VARIANTS: Final[Mapping[str, WireVariant]] = MappingProxyType({v.name: v for v in (OBSERVED, CERFACIL, WEDOF)})

# No source shows one OPCO refusing another's form: every OPCO takes the best-supported one until its own is known.
_BY_OPCO: Final[Mapping[Opco, WireVariant]] = MappingProxyType(dict.fromkeys(Opco, OBSERVED))


def wire_variant(opco: Opco) -> WireVariant:
    """The body this OPCO is sent."""
    return _BY_OPCO[opco]

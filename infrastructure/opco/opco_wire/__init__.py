"""The dossier on the OPCO wire: one translation between our Cerfa and the body of POST /v{n}/dossiers.

`description` is the one description of that body; `outbound` writes it from our Cerfa, `inbound` reads an OPCO's
dossier back into our terms, `validation` is what an OPCO (the sandbox, a conformance test) checks of it, and
`variants` holds, per OPCO, the choices the real bodies disagree on. docs/wire.md names every field's source.
"""

from infrastructure.opco.opco_wire.dates import read_date, read_sent_date, write_date
from infrastructure.opco.opco_wire.inbound import cerfa_from_wire
from infrastructure.opco.opco_wire.outbound import dossier_body, encode
from infrastructure.opco.opco_wire.validation import Violation, dossier_violations
from infrastructure.opco.opco_wire.variants import CERFACIL, OBSERVED, VARIANTS, WEDOF, WireVariant, wire_variant

__all__ = [
    "CERFACIL",
    "OBSERVED",
    "VARIANTS",
    "WEDOF",
    "Violation",
    "WireVariant",
    "cerfa_from_wire",
    "dossier_body",
    "dossier_violations",
    "encode",
    "read_date",
    "read_sent_date",
    "wire_variant",
    "write_date",
]

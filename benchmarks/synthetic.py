"""Synthetic but valid dossiers for the scale benchmark: CFAs, employers and apprentices spread over the 11 OPCOs.

Each dossier is the complete example Cerfa (docs/examples/cerfa-complete.json) with its identities changed: the
CFA's SIRET (one of `cfas`), the employer's SIRET and its IDCC (one routed to the dossier's OPCO by the IDCC table),
the apprentice's names, e-mail and NIR (same sex, birth year, month and département, other commune and order
number, its key recomputed). SIRETs pass the Luhn check. Everything is drawn from the dossier's number: the same
number gives the same dossier."""

from __future__ import annotations

import copy
import csv
import json
from functools import cache
from pathlib import Path
from typing import Any

from domain.opco.opco_catalogue import catalogue
from domain.opco.opcos import Opco

ROOT = Path(__file__).resolve().parent.parent
IDCC_TABLE = ROOT / "infrastructure" / "data" / "idcc_opco.csv"
FIRST_NAMES = ("Léa", "Hugo", "Inès", "Nathan", "Jade", "Lucas", "Chloé", "Adam", "Manon", "Yanis", "Camille")
LAST_NAMES = ("Martin", "Bernard", "Petit", "Robert", "Richard", "Durand", "Moreau", "Laurent", "Simon", "Michel")


def luhn_complete(stem: str) -> str:
    """`stem` followed by the digit that makes it pass the Luhn check (SIREN and SIRET)."""
    total = 0
    for position, char in enumerate(reversed(stem + "0")):
        digit = int(char) * (2 if position % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return stem + str((10 - total % 10) % 10)


def siret(kind: int, n: int) -> str:
    """A valid SIRET (its SIREN and itself pass the Luhn check), distinct per (kind, n): 1 for CFAs, 2 for
    employers."""
    return luhn_complete(luhn_complete(f"{kind}{n:07d}") + "0001")


def nir(base: str, n: int) -> str:
    """The NIR `base` with commune and order number drawn from `n`, its key recomputed."""
    stem = base[:7] + f"{100 + n % 900:03d}" + f"{1 + (n // 900) % 999:03d}"
    return stem + f"{97 - int(stem) % 97:02d}"


def letters(n: int) -> str:
    """`n` written in letters (names take no digits): 0 → "Aa", 1 → "Ab", …"""
    word = ""
    while True:
        n, rest = divmod(n, 26)
        word = chr(ord("a") + rest) + word
        if n == 0:
            return "A" + word


@cache
def example() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / "docs/examples/cerfa-complete.json").read_text(encoding="utf-8"))
    return loaded


@cache
def idcc_by_opco() -> dict[Opco, tuple[str, str]]:
    """One IDCC in force per OPCO, with its label: the first the table routes there."""
    found: dict[Opco, tuple[str, str]] = {}
    with IDCC_TABLE.open(encoding="utf-8") as table:
        for row in csv.DictReader(table):
            if row["opco"] and row["status"] == "in_force" and row["label"]:
                found.setdefault(Opco(row["opco"]), (row["idcc"], row["label"]))
    return found


@cache
def api_opcos() -> tuple[Opco, ...]:
    """The OPCOs that take contracts over the API (Santé takes them on its own site: docs/opco-routing.md)."""
    profiles = catalogue()
    return tuple(sorted((o for o in idcc_by_opco() if profiles[o].contracts), key=lambda opco: opco.value))


def opco_of(n: int) -> Opco:
    return api_opcos()[n % len(api_opcos())]


def invoiced_over_api(opco: Opco) -> bool:
    return catalogue()[opco].invoices


def cfa_siret(n: int, cfas: int) -> str:
    return siret(1, n % cfas)


def dossier(n: int, cfas: int) -> dict[str, Any]:
    """The Cerfa of dossier `n` among `cfas` CFAs."""
    document = copy.deepcopy(example())
    idcc, label = idcc_by_opco()[opco_of(n)]
    document["organismeFormation"]["siret"] = cfa_siret(n, cfas)
    document["employeur"].update(siret=siret(2, n // 3), codeIdcc=idcc, libelleIdcc=label)
    last, first = LAST_NAMES[n % len(LAST_NAMES)], FIRST_NAMES[(n // 7) % len(FIRST_NAMES)]
    document["apprenti"].update(
        nom=f"{last}-{letters(n)}",
        prenom=first,
        nir=nir(document["apprenti"]["nir"], n),
        courriel=f"apprenti.{n}@example.org",
    )
    return document


def rupture_over_api(opco: Opco) -> bool:
    """Whether the OPCO takes ruptures over the API (elsewhere the CFA declares them on the OPCO's site)."""
    return catalogue()[opco].ruptures


def payments_over_api(opco: Opco) -> bool:
    """Whether the OPCO reports its invoices' states and payments over the API (elsewhere the CFA records them)."""
    return catalogue()[opco].invoice_states

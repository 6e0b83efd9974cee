"""Refreshing the IDCC → OPCO table from France compétences' SIRET → OPCO table (SIRO, data.gouv.fr).

SIRO gives, for each establishment (SIRET), its IDCC and its OPCO (`OPCO_PROPRIETAIRE`, the competent one, and
`OPCO_GESTION`). An IDCC's OPCO is the one that holds at least `min_share` of its establishments: below that the
agreement is split between OPCOs (interprofessional codes, agreements straddling two branches) and the table keeps
what it had, reported as such. The file is read as a stream (about 3.5 million lines)."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from domain.opco.opcos import IDCC_WITHOUT_AGREEMENT, Opco, opco_from_name
from infrastructure.reference_data import COLUMNS

SIRO_IDCC = "IDCC"
SIRO_OPCO = "OPCO_PROPRIETAIRE"


@dataclass
class SiroCounts:
    """Per IDCC, how many establishments each OPCO holds, and the name SIRO writes for each OPCO."""

    by_idcc: dict[str, Counter[Opco]] = field(default_factory=lambda: defaultdict(Counter))
    names: dict[Opco, str] = field(default_factory=dict)
    lines: int = 0
    unreadable: Counter[str] = field(default_factory=Counter)  # OPCO names no OPCO answers to, and how often


@dataclass(frozen=True, slots=True)
class Change:
    idcc: str
    before: str
    after: str
    share: float


@dataclass
class RefreshReport:
    changed: list[Change] = field(default_factory=list)
    added: list[Change] = field(default_factory=list)  # IDCC the table routed nowhere
    confirmed: int = 0
    split: dict[str, float] = field(default_factory=dict)  # IDCC → the largest OPCO's share, under the threshold


def read_siro(lines: Iterable[str]) -> SiroCounts:
    """Count SIRO's establishments per IDCC and OPCO. The header names the columns; `|`, `;` or `,` separate them."""
    iterator = iter(lines)
    header = next(iterator, "")
    delimiter = max("|;,", key=header.count)
    columns = [name.strip().upper() for name in header.strip().lstrip("\ufeff").split(delimiter)]
    if SIRO_IDCC not in columns or SIRO_OPCO not in columns:
        raise ValueError(f"not a SIRO table: its header has no {SIRO_IDCC} and {SIRO_OPCO} columns ({columns})")
    idcc_at, opco_at = columns.index(SIRO_IDCC), columns.index(SIRO_OPCO)
    counts = SiroCounts()
    for record in csv.reader(iterator, delimiter=delimiter):
        if len(record) <= max(idcc_at, opco_at):
            continue
        counts.lines += 1
        idcc, name = record[idcc_at].strip(), record[opco_at].strip()
        if not idcc.isdigit() or len(idcc) > 4 or not name:
            continue
        opco = opco_from_name(name)
        if opco is None:
            counts.unreadable[name] += 1
            continue
        counts.by_idcc[idcc.zfill(4)][opco] += 1
        counts.names.setdefault(opco, name)
    return counts


def refresh(
    rows: Iterable[Mapping[str, str]], counts: SiroCounts, *, source: str, min_share: float
) -> tuple[list[dict[str, str]], RefreshReport]:
    """The table's rows with SIRO's answer where it is clear; `source` is the key the rows then name."""
    table = {row["idcc"]: dict(row) for row in rows}
    report = RefreshReport()
    for idcc, by_opco in sorted(counts.by_idcc.items()):
        if idcc in IDCC_WITHOUT_AGREEMENT:
            continue
        opco, held = by_opco.most_common(1)[0]
        share = held / sum(by_opco.values())
        if share < min_share:
            report.split[idcc] = round(share, 3)
            continue
        row = table.get(idcc)
        if row is None:
            row = table[idcc] = dict.fromkeys(COLUMNS, "") | {"idcc": idcc, "status": "unknown"}
        if not row["opco"]:
            report.added.append(Change(idcc, "", opco.value, share))
        elif row["opco"] == opco.value:
            report.confirmed += 1
        else:
            report.changed.append(Change(idcc, row["opco"], opco.value, share))
        row.update(opco=opco.value, opco_name_in_source=counts.names[opco], opco_source=source)
    return list(table.values()), report

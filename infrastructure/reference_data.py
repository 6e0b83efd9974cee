"""Reference data shipped with the package: the IDCC table (labels, legal states, competent OPCOs) and its sources."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from domain.opco.opcos import Convention, ConventionStatus, IdccRouting, Opco

TABLE = "data/idcc_opco.csv"
META = "data/idcc_opco.meta.json"
COLUMNS = (
    "idcc",
    "label",
    "status",
    "legal_state",
    "ended_on",
    "replaced_by",
    "opco",
    "opco_name_in_source",
    "opco_source",
    "status_source",
)


@cache
def idcc_routing() -> IdccRouting:
    return IdccRouting(conventions(read_rows(_packaged(TABLE))), as_of=str(table_metadata().get("as_of", "")))


@cache
def table_metadata() -> Mapping[str, Any]:
    loaded: Mapping[str, Any] = json.loads(_packaged(META))
    return loaded


def read_rows(text: str) -> list[dict[str, str]]:
    """The table's rows; a table whose header is not ours is refused (a file of another shape, not ours)."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise ValueError(f"not an IDCC table: its columns are {reader.fieldnames}, expected {list(COLUMNS)}")
    return list(reader)


def write_rows(rows: Iterable[Mapping[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(sorted(rows, key=lambda row: row["idcc"]))
    return buffer.getvalue()


def conventions(rows: Iterable[Mapping[str, str]]) -> Iterator[Convention]:
    for row in rows:
        yield Convention(
            idcc=row["idcc"].zfill(4),
            label=row["label"],
            status=ConventionStatus(row["status"] or ConventionStatus.UNKNOWN),
            opco=Opco(row["opco"]) if row["opco"] else None,
            ended_on=date.fromisoformat(row["ended_on"]) if row["ended_on"] else None,
            replaced_by=row["replaced_by"] or None,
        )


def _packaged(name: str) -> str:
    return resources.files("infrastructure").joinpath(name).read_text(encoding="utf-8")

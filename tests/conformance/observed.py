"""The bodies of POST /dossiers that real clients send, as key structures written from the facts of
../shared/reference/opco-wire.md (§2.2: CerFacil, §2.2b: Wedof), and the `facture` part of CerFacil's POST /factures
(§5: `cerfacil-facture`), and how a body is compared with them key by key.

A structure's leaves name what was seen at that key: "string", "integer", "number", "boolean", "datetime" (a date
with its time and offset), "scalar" (a value of the client's database, its JSON type not observed), or "=VALUE"
(that very value). A list holds one item: the structure of each of its items. The files are independent of our own
description of the wire (infrastructure/opco/opco_wire/description.py), so that a test comparing the two can fail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Final

HERE: Final = Path(__file__).resolve().parent
DATETIME: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})")
# The one key we add to what the real clients send (docs/wire.md, U7): the dossier's cerfa carries it when read.
ADDED: Final = frozenset({"cerfa.numeroInterne"})


@cache
def structure(client: str) -> dict[str, Any]:
    """`cerfacil`, `wedof` or `cerfacil-facture`."""
    loaded: dict[str, Any] = json.loads((HERE / "observed" / f"{client}.json").read_text(encoding="utf-8"))
    return loaded


def leaves(document: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every leaf; list items share the path `name[]`; an empty list or object, and null,
    are leaves."""
    if isinstance(document, Mapping) and document:
        for key, value in document.items():
            yield from leaves(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(document, list) and document:
        for item in document:
            yield from leaves(item, f"{prefix}[]")
    else:
        yield prefix, document


def paths(document: Any) -> set[str]:
    return {path for path, _ in leaves(document)}


def observed_paths(*clients: str) -> dict[str, set[str]]:
    """Every leaf path seen in these clients' bodies → the markers seen there."""
    seen: dict[str, set[str]] = {}
    for client in clients:
        for path, marker in leaves(structure(client)):
            seen.setdefault(path, set()).add(marker)
            if path.startswith("maitre2."):  # CerFacil's maitre2 sits beside cerfa, probably a bug (§2.2)
                seen.setdefault(f"cerfa.{path}", set()).add(marker)
    return seen


def conforms(value: Any, marker: str) -> bool:
    """Whether a value sent at a key is what was seen there; a blank ("") stands for an absent value."""
    if value == "" or marker == "scalar":
        return not isinstance(value, Mapping | list)
    if marker.startswith("="):
        return json.dumps(value, ensure_ascii=False).strip('"') == marker[1:]
    if marker == "boolean":
        return isinstance(value, bool)
    if marker == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if marker == "number":
        return isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    if marker == "datetime":
        return isinstance(value, str) and DATETIME.fullmatch(value) is not None
    return isinstance(value, str)  # "string"


def mismatches(body: Any, *clients: str, added: frozenset[str] = ADDED) -> list[str]:
    """Each key of `body` that no real client sends, or whose value is of none of the forms seen there."""
    seen = observed_paths(*clients)
    found = []
    for path, value in leaves(body):
        markers = seen.get(path)
        if markers is None:
            if path not in added and not (value is None and _is_block(path, seen)):
                found.append(f"{path}: no real client sends this key")
        elif not any(conforms(value, marker) for marker in markers):
            found.append(f"{path}: {value!r} is none of {sorted(markers)}")
    return found


def _is_block(path: str, seen: Mapping[str, set[str]]) -> bool:
    """A null where a client sends an object (CerFacil's absent maitre2)."""
    return any(known.startswith(path + ".") for known in seen)

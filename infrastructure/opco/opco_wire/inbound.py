"""The Cerfa of a dossier an OPCO returns (GET /v{n}/dossiers) → our Cerfa's terms, read liberally.

The result is a Cerfa document as our REST API writes it (dates YYYY-MM-DD, amounts as decimal strings, codes as the
standard writes them), not yet validated: an OPCO may hold values our rules refuse. A value that cannot be read is
left out rather than guessed; the OPCO's own fields (numeroExterne, etat, ...) are read by `opco_client.parsing`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from infrastructure.opco.opco_wire.dates import read_date
from infrastructure.opco.opco_wire.description import DOSSIER, MAITRE2, Kind, VariantValue, WireBlock, WireField
from infrastructure.opco.opco_wire.sources import Doc

_RNCP: Final = re.compile(r"(?:RNCP)?\s*([0-9]{2,5})", re.IGNORECASE)
_YES: Final = frozenset({"true", "oui", "1"})
_NO: Final = frozenset({"false", "non", "0"})


def cerfa_from_wire(document: Mapping[str, Any]) -> Doc:
    """`document`: the `cerfa` object, or a whole body (`{"cerfa": ..., "maitre2": ...}`)."""
    cerfa = document.get("cerfa") if isinstance(document.get("cerfa"), Mapping) else document
    assert isinstance(cerfa, Mapping)
    if MAITRE2 in document and cerfa is not document and MAITRE2 not in cerfa:
        cerfa = {**cerfa, MAITRE2: document[MAITRE2]}
    ours: Doc = {}
    for member in DOSSIER.members:
        if isinstance(member, WireBlock) and isinstance(cerfa.get(member.name), Mapping | list):
            _block(member, cerfa[member.name], ours, ours)
    return _pruned(ours)


def _block(block: WireBlock, wire: Any, here: Doc, root: Doc) -> None:
    if block.repeated:
        items = [_read_members(block, item, root) for item in wire if isinstance(item, Mapping)]
        if isinstance(wire, list) and items:
            block.source.write(here, root, items)
        return
    if isinstance(wire, Mapping):
        target = block.source.target(here, root)
        _write_members(block, wire, target, root)


def _read_members(block: WireBlock, wire: Mapping[str, Any], root: Doc) -> Doc:
    item: Doc = {}
    _write_members(block, wire, item, root)
    return item


def _write_members(block: WireBlock, wire: Mapping[str, Any], here: Doc, root: Doc) -> None:
    for member in block.members:
        value = next((wire[name] for name in (member.name, *_aliases(member)) if name in wire), None)
        if isinstance(member, WireBlock):
            if isinstance(value, Mapping | list):
                _block(member, value, here, root)
        elif not isinstance(member.source, VariantValue):
            ours = read_value(member, value)
            if ours is not None:
                member.source.write(here, root, ours)


def _aliases(member: WireField | WireBlock) -> tuple[str, ...]:
    return member.aliases if isinstance(member, WireField) else ()


def read_value(field: WireField, value: Any) -> Any:
    """A value of the wire in our Cerfa's form; None when absent, blank or unreadable."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    kind = field.kind
    if kind is Kind.DATE:
        day = read_date(value)
        return day.isoformat() if day else None
    if kind in (Kind.CODE, Kind.COUNT):
        number = _whole(value)
        return f"{number:0{field.width}d}" if number is not None and field.width else number
    if kind is Kind.BOOL:
        return _boolean(value)
    if kind is Kind.AMOUNT:
        return _decimal(value)
    if isinstance(value, bool | Mapping | list):
        return None
    text = str(value).strip()
    if kind is Kind.RNCP:
        match = _RNCP.fullmatch(text)
        return f"RNCP{match[1]}" if match else text
    return text


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if re.fullmatch(r"[0-9]+", text) else None


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return True if text in _YES else False if text in _NO else None


def _decimal(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return None
    return str(number) if number.is_finite() else None


def _pruned(document: Doc) -> Doc:
    """Without the objects that received nothing readable."""
    kept: Doc = {}
    for name, value in document.items():
        if isinstance(value, dict):
            value = _pruned(value)
            if not value:
                continue
        kept[name] = value
    return kept

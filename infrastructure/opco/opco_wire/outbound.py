"""Our Cerfa → the body of POST /v{n}/dossiers, as the variant of the OPCO writes it; and its JSON bytes."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, Final

from domain.cerfa import Cerfa
from infrastructure.opco.opco_wire.dates import write_date
from infrastructure.opco.opco_wire.description import DOSSIER, MAITRE2, Kind, Member, VariantValue, WireBlock, WireField
from infrastructure.opco.opco_wire.variants import WireVariant

_OMIT: Final = object()


def dossier_body(numero_interne: str, cerfa: Cerfa, variant: WireVariant) -> dict[str, Any]:
    """The document sent: `{"cerfa": {...}}`, with `maitre2` beside it where the variant puts it there."""
    root = {**cerfa.model_dump(exclude_none=True), "numeroInterne": numero_interne}
    shaped = _members(DOSSIER, root, root, variant)
    body: dict[str, Any] = {"cerfa": shaped}
    if variant.maitre2_beside_cerfa and MAITRE2 in shaped:
        body[MAITRE2] = shaped.pop(MAITRE2)
    return body


def key_of(member: Member, variant: WireVariant) -> str:
    if isinstance(member, WireField) and member.named_by is not None:
        return str(getattr(variant, member.named_by))
    return member.name


def sent_by(member: Member, variant: WireVariant) -> bool:
    """Whether this variant sends this key at all (with a value or blank)."""
    if variant.keys_of is not None and variant.keys_of not in member.seen:
        return False
    only_if = getattr(member, "only_if", None)
    return only_if is None or bool(getattr(variant, only_if))


def _members(
    block: WireBlock, here: Mapping[str, Any], root: Mapping[str, Any], variant: WireVariant
) -> dict[str, Any]:
    shaped: dict[str, Any] = {}
    for member in block.members:
        if not sent_by(member, variant):
            continue
        value = (
            _block(member, here, root, variant)
            if isinstance(member, WireBlock)
            else _field(member, here, root, variant)
        )
        if value is not _OMIT:
            shaped[key_of(member, variant)] = value
    return shaped


def _block(block: WireBlock, here: Mapping[str, Any], root: Mapping[str, Any], variant: WireVariant) -> Any:
    ours = block.source.read(here, root)
    if block.repeated:
        items = [item for item in ours if isinstance(item, Mapping)] if isinstance(ours, list) else []
        if not items:
            return [] if variant.blank_absent else _OMIT
        return [_members(block, item, root, variant) for item in items]
    if not isinstance(ours, Mapping):
        if not variant.blank_absent:
            return _OMIT
        return None if block.name == MAITRE2 else _members(block, {}, root, variant)
    shaped = _members(block, ours, root, variant)
    return shaped if shaped or variant.blank_absent else _OMIT


def _field(field: WireField, here: Mapping[str, Any], root: Mapping[str, Any], variant: WireVariant) -> Any:
    source = field.source
    ours = getattr(variant, source.attribute) if isinstance(source, VariantValue) else source.read(here, root)
    if ours is None:
        return "" if variant.blank_absent else _OMIT
    return _written(field.kind, ours, variant)


def _written(kind: Kind, value: Any, variant: WireVariant) -> Any:
    if kind is Kind.DATE:
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
        return write_date(day, variant.date_form)
    if kind in (Kind.CODE, Kind.COUNT):
        return int(value)
    if kind is Kind.BOOL:
        return bool(value)
    if kind is Kind.AMOUNT:
        return Decimal(str(value))
    if kind is Kind.RNCP:
        digits = re.sub(r"^RNCP", "", str(value).strip().upper())
        return f"RNCP{digits}" if variant.rncp_prefix else digits
    return str(value)


def encode(document: Any, indent: int | None = None) -> bytes:
    """JSON in UTF-8, amounts written as the decimals they are (never through a float). `indent` lays it out for a
    reader (the golden files) with the same keys, order and numbers as the compact form sent."""
    return _dumped(document, indent, 0).encode("utf-8")


def _dumped(value: Any, indent: int | None, depth: int) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Mapping):
        parts = [
            f"{json.dumps(str(k), ensure_ascii=False)}:{_space(indent)}{_dumped(v, indent, depth + 1)}"
            for k, v in value.items()
        ]
        return _wrapped("{", parts, "}", indent, depth)
    if isinstance(value, list | tuple):
        return _wrapped("[", [_dumped(item, indent, depth + 1) for item in value], "]", indent, depth)
    return json.dumps(value, ensure_ascii=False)


def _space(indent: int | None) -> str:
    return "" if indent is None else " "


def _wrapped(opening: str, parts: list[str], closing: str, indent: int | None, depth: int) -> str:
    if indent is None or not parts:
        return opening + ",".join(parts) + closing
    inner, outer = "\n" + " " * indent * (depth + 1), "\n" + " " * indent * depth
    return opening + inner + ("," + inner).join(parts) + outer + closing

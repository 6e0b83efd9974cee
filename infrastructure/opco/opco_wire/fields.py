"""The description of the dossier body as rows, one per key: what docs/wire.md tabulates (a test keeps the two
equal), so that the page names every key's source and certainty from the code itself."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from infrastructure.opco.opco_wire.description import DOSSIER, VariantValue, WireBlock
from infrastructure.opco.opco_wire.sources import Derived, First, Path, Source


@dataclass(frozen=True, slots=True)
class FieldRow:
    key: str  # the wire path, `[]` for the items of a list: cerfa.contrat.remunerationsAnnuelles[].taux
    kind: str
    ours: str  # where it comes from in our Cerfa
    seen: str  # the real clients seen sending it
    certainty: str  # [C3]: seen in a real client; [I]: inferred
    unknown: str  # the unknown of docs/wire.md it depends on, or ""


def field_rows() -> Iterator[FieldRow]:
    yield from _rows(DOSSIER, "cerfa", "")


def _rows(block: WireBlock, prefix: str, here: str) -> Iterator[FieldRow]:
    for member in block.members:
        key = f"{prefix}.{member.name}"
        seen = " + ".join(sorted(client.value for client in member.seen)) or "—"
        certainty = "[C3]" if member.seen else "[I]"
        if isinstance(member, WireBlock):
            kind = "list" if member.repeated else "object"
            yield FieldRow(key, kind, _label(member.source, here), seen, certainty, member.unknown or "")
            inner = member.source.back if isinstance(member.source, Derived) else member.source
            yield from _rows(member, key + ("[]" if member.repeated else ""), _label(inner, here))
        else:
            yield FieldRow(key, member.kind.value, _label(member.source, here), seen, certainty, member.unknown or "")


def _label(source: Source | VariantValue, here: str) -> str:
    if isinstance(source, Path):
        return source.label if source.path.startswith("/") or not here else f"{here}.{source.label}"
    if isinstance(source, First):
        return ", else ".join(_label(path, here) for path in source.paths)
    if isinstance(source, Derived) and source.writer is not None:
        return f"{here}: {source.label}"
    return source.label

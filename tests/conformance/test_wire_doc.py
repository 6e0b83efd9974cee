"""docs/wire.md names every key of the dossier body with its source and certainty, as the description the code
translates with says; and every unknown the description depends on is listed there with its one place in code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from infrastructure.opco.opco_wire import variants
from infrastructure.opco.opco_wire.fields import FieldRow, field_rows

PAGE: Final = Path(__file__).resolve().parents[2] / "docs" / "wire.md"
_ROW: Final = re.compile(r"^\| `(?P<key>cerfa\.[^`]+)` \| (?P<rest>.*) \|$")


def section(title: str) -> str:
    text = PAGE.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def documented_rows() -> list[FieldRow]:
    rows = []
    for line in section("Dossier body").splitlines():
        match = _ROW.match(line)
        if match:
            kind, ours, seen, unknown = (cell.strip() for cell in match["rest"].split(" | "))
            seen_in, certainty = seen.rsplit(" ", 1)
            rows.append(FieldRow(match["key"], kind, ours, seen_in, certainty, unknown))
    return rows


def test_the_page_tabulates_every_key_of_the_body_as_the_description_says() -> None:
    def by_key(row: FieldRow) -> str:
        return row.key

    assert sorted(documented_rows(), key=by_key) == sorted(field_rows(), key=by_key)


def test_every_unknown_is_listed_with_its_place_in_code() -> None:
    listed = dict(re.findall(r"^\| (U\d+) \| .* \| ([^|]+) \|$", section("Unknowns"), re.MULTILINE))
    used = {row.unknown for row in field_rows() if row.unknown}
    assert used <= set(listed)
    assert sorted(listed, key=lambda code: int(code[1:])) == [f"U{n}" for n in range(1, len(listed) + 1)]
    assert all(place.strip() for place in listed.values())
    for name in ("version_cerfa", "signature_key", "rncp_prefix", "date_form", "maitre2_beside_cerfa", "blank_absent"):
        assert f"WireVariant.{name}" in section("Unknowns")
        assert name in variants.WireVariant.__dataclass_fields__


def test_the_page_keeps_a_section_for_authentication_and_paging() -> None:
    for title in ("Dossier body", "Answers", "Authentication", "Paging"):
        assert section(title)

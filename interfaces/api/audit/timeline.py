"""A dossier's timeline as an HTML page a person reads on screen or on paper: one row per event, oldest first."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from typing import Any

from domain.contracts.contract import Contract

STYLE = """
body { font: 10.5pt/1.4 system-ui, "DejaVu Sans", sans-serif; color: #111; margin: 2em; }
h1 { font-size: 16pt; margin: 0 0 .2em; }
.dossier { color: #444; margin-bottom: 1.2em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .35em .5em; border-bottom: 1px solid #ccc; }
th { border-bottom: 2px solid #333; font-size: 9pt; text-transform: uppercase; letter-spacing: .04em; }
td.when { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.version { text-align: right; color: #666; }
.event { font-weight: 600; }
.rupture { display: inline-block; font-size: 8pt; border: 1px solid #a33; color: #a33; padding: 0 .3em; }
.opco { background: #f3f6fb; }
.unknown { color: #888; font-style: italic; }
.field { font: 8.5pt/1.35 ui-monospace, "DejaVu Sans Mono", monospace; word-break: break-word; }
col.when { width: 11em; } col.version { width: 2.5em; } col.event { width: 14em; } col.who { width: 14em; }
footer { margin-top: 1.5em; font-size: 8.5pt; color: #666; }
@media print {
  body { margin: 0; }
  tr { break-inside: avoid; }
  thead { display: table-header-group; }
  @page { size: A4 landscape; margin: 12mm; }
}
"""
DETAIL_LINES = 12  # of an event's fields shown; every one is in GET /contracts/{id}/history


def timeline_page(contract: Contract, entries: list[dict[str, Any]]) -> str:
    rows = "\n".join(_row(entry) for entry in entries)
    title = f"Dossier {contract.numero_interne}"
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}: timeline</title><style>{STYLE}</style></head>
<body>
<h1>{escape(title)}</h1>
<div class="dossier">id {contract.id} · CFA {escape(contract.cfa_siret)} · state <b>{escape(contract.state.value)}</b>
 · OPCO {escape(contract.submitted_to or contract.opco_choice or "not decided")} · version {contract.version}</div>
<table>
<colgroup><col class="when"><col class="version"><col class="event"><col class="who"><col></colgroup>
<thead><tr><th>When (UTC)</th><th>v</th><th>Event</th><th>Who</th><th>Details</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
<footer>{len(entries)} events · printed {generated} · every event, its data and who acted:
GET /contracts/{contract.id}/history</footer>
</body></html>
"""


def _row(entry: dict[str, Any]) -> str:
    at: datetime = entry["at"]
    rupture = "".join(
        f' <span class="rupture">{kind} {entry[kind]}</span>' for kind in ("rupture", "amendment") if kind in entry
    )
    css = ' class="opco"' if "transmission" in entry else ""
    details = entry.get("transmission") or entry["data"]
    return (
        f'<tr{css}><td class="when">{at.astimezone(UTC):%Y-%m-%d %H:%M:%S}</td>'
        f'<td class="version">{entry["version"]}</td>'
        f'<td><span class="event">{escape(_words(entry["type"]))}</span>{rupture}</td>'
        f"<td>{_who(entry['actor'])}</td><td>{_details(details)}</td></tr>"
    )


def _who(actor: dict[str, Any]) -> str:
    if actor["kind"] == "unknown":
        recorded = actor.get("recordedAs")
        return f'<span class="unknown">not recorded{escape(f" ({recorded})") if recorded else ""}</span>'
    person = actor.get("person")
    if person:
        return f"<b>{escape(person)}</b><br>via {escape(actor['kind'])} {escape(actor['name'])}"
    return f"{escape(actor['name'])} ({escape(actor['kind'])})"


def _details(data: dict[str, Any]) -> str:
    """The event's fields as `path: value` lines, nulls left out, at most DETAIL_LINES of them."""
    lines = [f"{path}: {json.dumps(value, ensure_ascii=False)}" for path, value in _flat(data) if value is not None]
    if len(lines) > DETAIL_LINES:
        lines = [*lines[: DETAIL_LINES - 1], f"… and {len(lines) - DETAIL_LINES + 1} more"]
    return "".join(f'<div class="field">{escape(line)}</div>' for line in lines)


def _flat(value: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        return [pair for key, item in value.items() for pair in _flat(item, f"{path}.{key}" if path else key)]
    if isinstance(value, list) and value and any(isinstance(item, dict | list) for item in value):
        return [pair for n, item in enumerate(value, 1) for pair in _flat(item, f"{path}[{n}]")]
    return [(path, value)]


def _words(event_type: str) -> str:
    """`RefusedOnTransmission` → `Refused on transmission`."""
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in event_type).strip()
    return words[:1].upper() + words[1:]

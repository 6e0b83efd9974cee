"""The invoice PDF's rendering time: ms per PDF, PDFs/s, bytes and pages, for invoices of 1, 5 and 40 contracts.

    python3 dev.py run python -m benchmarks.invoice_pdf [--repeat 200]

Each invoice is the unit test's (tests/unit/test_invoice_pdf.py: DOCUMENT) with its first contract repeated; it is
rendered once to warm up, then three rounds of --repeat times (a tenth as many for 40 contracts), the fastest round
kept (the least disturbed by the machine's other work). The baseline, measured the same way in the same run, is
fpdf2's floor: a one-page PDF holding one line of text, with the same fonts and metadata; each invoice is shown as a
ratio to it. It prints figures, it asserts no timing.
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial

from fpdf import FPDF
from pypdf import PdfReader

from infrastructure.documents.invoice_pdf import render_invoice_pdf
from tests.unit.test_invoice_pdf import DOCUMENT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    repeat = parser.parse_args().repeat
    floor = min(_timed(_floor_pdf, repeat) for _ in range(3))
    print(f"baseline, fpdf2's one-line page: {1000 * floor:7.2f} ms/PDF")
    first = DOCUMENT.sections[0]
    for count in (1, 5, 40):
        document = replace(DOCUMENT, sections=(first,) * count, total=first.amount * count)
        times = max(1, repeat // 10 if count > 5 else repeat)
        pdf = render_invoice_pdf(document)
        seconds = min(_timed(partial(render_invoice_pdf, document), times) for _ in range(3))
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        print(
            f"{count:>3} contracts: {1000 * seconds:7.2f} ms/PDF  {1 / seconds:7.0f} PDFs/s  "
            f"{len(pdf):>7,} bytes  {pages} page(s)  {seconds / floor:5.1f} x the baseline"
        )


def _timed(render: Callable[[], bytes], times: int) -> float:
    """Seconds per PDF over times renderings."""
    start = time.perf_counter()
    for _ in range(times):
        render()
    return (time.perf_counter() - start) / times


def _floor_pdf() -> bytes:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_creation_date(datetime(2026, 11, 30, tzinfo=UTC))
    pdf.set_title("Facture FAC-2026-000042")
    pdf.add_page()
    pdf.set_font("Helvetica", "", 10)
    pdf.text(15, 20, "Facture FAC-2026-000042")
    return bytes(pdf.output())


if __name__ == "__main__":
    main()

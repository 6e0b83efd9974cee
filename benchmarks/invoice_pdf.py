"""The invoice PDF's rendering time: ms per PDF, PDFs/s, bytes and pages, for invoices of 1, 5 and 40 contracts.

    python3 dev.py run python -m benchmarks.invoice_pdf [--repeat 200]

Each invoice is the unit test's (tests/unit/test_invoice_pdf.py: DOCUMENT) with its first contract repeated; it is
rendered once to warm up, then three rounds of --repeat times (a tenth as many for 40 contracts), the fastest round
kept (the least disturbed by the machine's other work). It prints figures, it asserts no timing.
"""

from __future__ import annotations

import argparse
import io
import time
from dataclasses import replace

from pypdf import PdfReader

from application.invoices.invoice_document import InvoiceDocument
from infrastructure.documents.invoice_pdf import render_invoice_pdf
from tests.unit.test_invoice_pdf import DOCUMENT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    repeat = parser.parse_args().repeat
    first = DOCUMENT.sections[0]
    for count in (1, 5, 40):
        document = replace(DOCUMENT, sections=(first,) * count, total=first.amount * count)
        times = max(1, repeat // 10 if count > 5 else repeat)
        pdf = render_invoice_pdf(document)
        seconds = min(_round(document, times) for _ in range(3))
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        print(
            f"{count:>3} contracts: {1000 * seconds:7.2f} ms/PDF  {1 / seconds:7.0f} PDFs/s  "
            f"{len(pdf):>7,} bytes  {pages} page(s)"
        )


def _round(document: InvoiceDocument, times: int) -> float:
    """Seconds per PDF over times renderings."""
    start = time.perf_counter()
    for _ in range(times):
        render_invoice_pdf(document)
    return (time.perf_counter() - start) / times


if __name__ == "__main__":
    main()

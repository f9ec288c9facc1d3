"""A report's file, CSV or PDF, from its rows: Coinbase's fills and account statement columns.

Rows come from the fills and ledger views (``sandex.api.rest.reports``); here they are only
laid out. A report's rows are capped when it is asked for (``ROWS_MAX_CSV``,
``ROWS_MAX_PDF``), so a file is built whole in memory within a known bound.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime

from fpdf import FPDF

ROWS_MAX_CSV = 100_000  # about 15 MB of CSV at most, rendered off the event loop per download
ROWS_MAX_PDF = 1_000  # fpdf2 lays out ~500 rows a second; rendered off the event loop

FILLS_COLUMNS = ("portfolio", "trade id", "product", "side", "created at", "size", "size unit",
                 "price", "fee", "total", "price/fee/total unit")
ACCOUNT_COLUMNS = ("portfolio", "type", "time", "amount", "balance", "amount/balance unit",
                   "transfer id", "trade id", "order id")
CONTENT_TYPES = {"csv": b"text/csv; charset=utf-8", "pdf": b"application/pdf"}


def render(fmt: str, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]],
           created_us: int) -> bytes:
    """The file of ``rows`` (each a tuple of strings in ``columns`` order) as ``fmt``; a PDF
    is dated ``created_us`` (the report's creation), so the same report gives the same bytes."""
    if fmt == "csv":
        return _csv(columns, rows)
    return _pdf(title, columns, rows, datetime.fromtimestamp(created_us / 1e6, UTC))


def _csv(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue().encode()


def _pdf(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]],
         created: datetime) -> bytes:
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_creation_date(created)
    pdf.set_auto_page_break(True, margin=10)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    width = (pdf.w - pdf.l_margin - pdf.r_margin) / len(columns)
    pdf.set_font("Helvetica", "B", 6)
    for name in columns:
        pdf.cell(width, 4, name, border=1)
    pdf.ln()
    pdf.set_font("Helvetica", size=6)
    for row in rows:  # plain cells: fpdf2's table() lays out 100 times slower
        for value in row:
            pdf.cell(width, 4, value[:40], border=1)
        pdf.ln()
    return bytes(pdf.output())

"""One-sheet .xlsx files for exports, written by openpyxl in write-only mode.

Write-only mode streams rows to a temporary file instead of holding a cell object for every
value, so the academy's whole member list (100,000 rows) stays within memory; with lxml
installed openpyxl serializes through lxml's incremental writer, about twice as fast as the
standard library's (bench/bench_stats.py measures the export)."""
from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

_SHEET_NAME_ILLEGAL = re.compile(r"[\[\]:*?/\\]")
_BOLD = Font(bold=True)


def sheet_name(title: str) -> str:
    """A name Excel accepts: at most 31 characters, none of []:*?/\\, not empty."""
    return _SHEET_NAME_ILLEGAL.sub(" ", title).strip()[:31] or "Sheet1"


def _clean(values: Sequence) -> Sequence:
    """Values openpyxl writes as they are. Dates become text as the screen shows them (an
    export equals the screen, whatever the reader's locale), and the control characters XML
    cannot carry are dropped; openpyxl would refuse the whole file for one of them."""
    out = None
    for i, value in enumerate(values):
        kind = type(value)
        if kind is str:
            if not ILLEGAL_CHARACTERS_RE.search(value):
                continue
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        elif kind is datetime:
            value = value.strftime("%Y-%m-%d %H:%M")
        elif kind is date:
            value = value.isoformat()
        elif value == "" or kind in (int, float, bool) or value is None:
            continue
        if out is None:
            out = list(values)
        out[i] = value
    return values if out is None else out


def write_xlsx(rows: Iterable[Sequence], *, title: str, bold_rows: int = 0) -> bytes:
    """One sheet named after `title` holding `rows` (str, int, float, bool, date, datetime or
    None per cell); the first `bold_rows` rows in bold."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_name(title))
    for number, values in enumerate(rows, start=1):
        values = _clean(values)
        if number <= bold_rows:
            cells = []
            for value in values:
                cell = WriteOnlyCell(sheet, value=value)
                cell.font = _BOLD
                cells.append(cell)
            values = cells
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

"""Reading a roster file into rows of raw cell values (no database, no Flask).

Real rosters are messy: a merged title row above the header, header spellings that vary by
branch, full-width digits, phone numbers with spaces, Excel date serials next to date strings.
This module finds the header and hands back each data row with its spreadsheet row number;
`learning.roster.plan` decides what each row means.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

MAX_ROWS = 5000
HEADER_SCAN_ROWS = 12

# canonical field -> header spellings seen in the wild (compared after normalize_header)
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "党员姓名"),
    "phone": ("手机号", "手机号码", "手机", "联系电话", "电话", "移动电话", "联系方式"),
    "birth": ("出生年份或日期", "出生年份或出生日期", "出生年份", "出生日期", "出生年月", "出生年", "出生年月日"),
    "occupation": ("职业", "工作岗位", "岗位", "从业类型", "职业类型"),
    "branch": ("支部编码", "所在支部编码", "组织编码", "支部代码", "党支部编码"),
    "kind": ("党员类别", "党员类型", "类别", "人员类别", "党员身份", "学员类别", "政治面貌"),
    "joined": ("入党日期", "入党时间", "入党年月"),
}
REQUIRED = ("name", "phone")
TEMPLATE_HEADERS = ("姓名", "手机号", "出生年份或日期", "职业", "支部编码", "党员类别", "入党日期")


class FileProblem(ValueError):
    """The file as a whole cannot be read; `kind` picks the message shown to the user."""

    def __init__(self, kind: str, **detail: Any) -> None:
        super().__init__(kind)
        self.kind = kind
        self.detail = detail


@dataclass
class RawRow:
    number: int  # as the spreadsheet shows it (1-based, counting the title and header rows)
    values: dict[str, Any] = field(default_factory=dict)


def normalize_text(value: Any) -> str:
    """NFKC folds full-width digits, letters and punctuation to their ASCII forms."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def normalize_header(value: Any) -> str:
    text = normalize_text(value)
    text = re.sub(r"\(.*?\)|\[.*?\]|【.*?】", "", text)
    return re.sub(r"[\s*:：]", "", text)


_LOOKUP = {normalize_header(h): key for key, spellings in HEADERS.items() for h in spellings}


def _header_map(cells: list[Any]) -> dict[int, str]:
    found: dict[int, str] = {}
    for index, cell in enumerate(cells):
        key = _LOOKUP.get(normalize_header(cell))
        if key and key not in found.values():
            found[index] = key
    return found


def rows_from_table(table: list[list[Any]] | Any) -> list[RawRow]:
    """The header is the first of the top rows naming at least the name and phone columns."""
    rows: list[RawRow] = []
    mapping: dict[int, str] | None = None
    for number, cells in enumerate(table, start=1):
        cells = list(cells)
        if mapping is None:
            candidate = _header_map(cells)
            if all(key in candidate.values() for key in REQUIRED):
                mapping = candidate
            elif number >= HEADER_SCAN_ROWS:
                break
            continue
        if all(normalize_text(c) == "" for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise FileProblem("too_many_rows", limit=MAX_ROWS)
        rows.append(RawRow(number, {key: cells[i] if i < len(cells) else None for i, key in mapping.items()}))
    if mapping is None:
        raise FileProblem("no_header")
    return rows


def read_xlsx(path: Path) -> list[RawRow]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    # A file object, not the name: openpyxl judges a path by its extension, and uploads are
    # stored under a neutral one (the content decides, see sniff_kind).
    with path.open("rb") as fh:
        try:
            workbook = load_workbook(fh, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
            raise FileProblem("unreadable") from None
        try:
            sheet = workbook.worksheets[0] if workbook.worksheets else None
            if sheet is None:
                raise FileProblem("no_header")
            # The scan stops after MAX_ROWS data rows, so a huge sheet is never read whole.
            return rows_from_table(sheet.iter_rows(values_only=True))
        except (zipfile.BadZipFile, KeyError, ValueError):
            raise FileProblem("unreadable") from None
        finally:
            workbook.close()


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without the BOM Excel writes), else GB18030 (what Excel writes on a
    Chinese Windows with "CSV (逗号分隔)")."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise FileProblem("encoding") from None


def read_csv(path: Path) -> list[RawRow]:
    try:
        text = decode_csv(path.read_bytes())
    except UnicodeDecodeError:
        raise FileProblem("encoding") from None
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    try:
        return rows_from_table(csv.reader(io.StringIO(text), dialect))
    except csv.Error:
        raise FileProblem("unreadable") from None


def sniff_kind(head: bytes) -> str | None:
    """By content, not by name: xlsx is a zip; an old .xls is an OLE file; CSV is text."""
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if b"\x00" in head:
        return None
    return "csv"


def read_roster(path: Path) -> list[RawRow]:
    with path.open("rb") as fh:
        kind = sniff_kind(fh.read(8))
    if kind == "xlsx":
        return read_xlsx(path)
    if kind == "csv":
        return read_csv(path)
    raise FileProblem("old_excel" if kind == "xls" else "unreadable")


# --- cell values ---------------------------------------------------------------------------------

EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01, with Lotus' phantom 29 Feb 1900


class BadDate(ValueError):
    def __init__(self, kind: str, text: str) -> None:
        super().__init__(kind)
        self.kind = kind  # "impossible" (no such day) | "unreadable"
        self.text = text


def parse_date(value: Any, *, allow_year: bool) -> tuple[date | None, bool]:
    """(date, year_only). Accepts date/datetime cells, Excel serials, 1990, 1990-5-1,
    1990/05/01, 1990.5.1, 1990年5月1日, 1990年5月, 199005, 19900501."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, False
    if isinstance(value, datetime):
        return value.date(), False
    if isinstance(value, date):
        return value, False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = int(value)
        if 1900 <= number <= 2100 and allow_year:
            return date(number, 1, 1), True
        if 10000 <= number <= 80000:  # an Excel serial (1927 … 2119)
            return EXCEL_EPOCH + timedelta(days=number), False
        value = str(number)
    text = normalize_text(value)
    match = re.fullmatch(r"(\d{4})\s*(?:[-/.年]\s*(\d{1,2})\s*(?:[-/.月]\s*(\d{1,2})\s*日?|月)?)?", text) \
        or re.fullmatch(r"(\d{4})(\d{2})(\d{2})?", text)
    if match is None:
        if re.fullmatch(r"\d{5}(\.0+)?", text):
            return EXCEL_EPOCH + timedelta(days=int(float(text))), False
        raise BadDate("unreadable", text)
    year, month, day = match.group(1), match.group(2), match.group(3)
    if month is None:
        if not allow_year:
            raise BadDate("unreadable", text)
        return date(int(year), 1, 1), True
    try:
        return date(int(year), int(month), int(day or 1)), False
    except ValueError:
        raise BadDate("impossible", text) from None

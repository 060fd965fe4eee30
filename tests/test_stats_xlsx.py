"""The exports' .xlsx writer (openpyxl, write-only): what goes in comes back out, with the
awkward values a roster can hold."""
from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from learning.stats.xlsx import sheet_name, write_xlsx


def _read(data: bytes):
    book = load_workbook(io.BytesIO(data))
    sheet = book.active
    return sheet, [list(row) for row in sheet.iter_rows(values_only=True)]


def test_values_round_trip_with_types_and_bold_header():
    rows = [["学员学时（2025 年累计）"], ["姓名", "学时", "人数", "达标", "日期", "时间"],
            ["张三", 12.5, 3, True, date(2025, 3, 1), datetime(2025, 3, 1, 8, 5)],
            ["李四", 0.1 + 0.2, -7, False, None, ""]]
    sheet, values = _read(write_xlsx(rows, title="学员学时（2025 年累计）", bold_rows=2))
    assert values[0][0] == "学员学时（2025 年累计）"
    assert values[1] == ["姓名", "学时", "人数", "达标", "日期", "时间"]
    assert values[2] == ["张三", 12.5, 3, True, "2025-03-01", "2025-03-01 08:05"]
    # floats to the 15 significant digits Excel keeps; empty cells keep the row's width
    assert values[3] == ["李四", pytest.approx(0.3, rel=1e-15), -7, False, None, None]
    assert sheet["A1"].font.b and sheet["B2"].font.b and not sheet["A3"].font.b
    assert sheet.title == "学员学时（2025 年累计）"


def test_markup_control_characters_and_spaces_survive_or_are_dropped():
    nasty = ["<b>王&五</b>", "tab\there", " 前后空格 ", "bell\x07ring", "\"引号\" & 'apostrophe'", "line\nbreak"]
    _sheet, values = _read(write_xlsx([nasty], title="x"))
    assert values[0] == ["<b>王&五</b>", "tab\there", " 前后空格 ", "bellring", "\"引号\" & 'apostrophe'",
                         "line\nbreak"]


def test_sheet_names_excel_accepts():
    assert sheet_name("a/b:c*d?e[f]g\\h") == "a b c d e f g h"
    assert sheet_name("很长" * 20) == ("很长" * 20)[:31]
    assert sheet_name("[]") == "Sheet1"
    data = write_xlsx([[1]], title='引号"与<尖括号>')
    assert load_workbook(io.BytesIO(data)).active.title == '引号"与<尖括号>'


def test_package_is_a_complete_workbook_and_streams_many_rows():
    data = write_xlsx(([f"人{i}", i, i / 4] for i in range(5000)), title="members")
    names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    assert {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
            "xl/styles.xml", "xl/worksheets/sheet1.xml"} <= names
    _sheet, values = _read(data)
    assert len(values) == 5000 and values[4999] == ["人4999", 4999, 4999 / 4]

"""The roster template workbook secretaries download and fill in."""
from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font

from learning.roster.parse import TEMPLATE_HEADERS

EXAMPLES = (
    ("张三", "13912345678", 1990, "外卖骑手", "HF-WM-01", "正式", "2015-07-01"),
    ("李四", "139 8765 4321", "1996-03-12", "快递员", "HF-WM-01", "预备", "2025-06-20"),
    ("王五", "137 1234 5678", 1998, "快递员", "HF-WM-01", "积极分子", ""),
)
NOTES = (
    "填写说明",
    "1. 第一行是表头，不要改动列名；每位党员一行。",
    "2. 手机号：11 位中国大陆手机号，可带空格或短横线。",
    "3. 出生年份或日期：如 1990 或 1990-05-01。",
    "4. 支部编码：见红帆学院「组织」页面；导入到本支部时可留空。",
    "5. 党员类别：正式、预备、发展对象、积极分子 或 群众（非党员不填入党日期）。",
    "6. 入党日期：如 2015-07-01。",
    "7. 导入前会逐行预览，确认无误后才写入。新账号会生成一次性激活码。",
)


def template_workbook() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "党员名册"
    sheet.append(TEMPLATE_HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in EXAMPLES:
        sheet.append(row)
    for column, width in zip("ABCDEFG", (10, 16, 16, 12, 12, 10, 14)):
        sheet.column_dimensions[column].width = width
    notes = book.create_sheet("说明")
    for line in NOTES:
        notes.append((line,))
    out = BytesIO()
    book.save(out)
    return out.getvalue()

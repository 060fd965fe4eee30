"""Read a stored roster file and plan it, with file-level problems as user messages. Shared by
the web pages and the `hongfan roster` command."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from flask_babel import gettext as _

from learning.orgs.models import Organization
from learning.roster.parse import MAX_ROWS, FileProblem, read_roster
from learning.roster.plan import Plan, build_plan


class RosterFileError(ValueError):
    pass


def file_problem_message(problem: FileProblem) -> str:
    messages = {
        "no_header": _("没有找到表头：第一张工作表的前几行里应有“姓名”和“手机号”两列。"),
        "unreadable": _("无法读取这个文件，请上传 .xlsx 或 .csv 格式的名册。"),
        "old_excel": _("这是旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 后再上传。"),
        "encoding": _("CSV 文件的编码无法识别，请保存为 UTF-8 或 GB18030 编码。"),
        "too_many_rows": _("一次最多导入 %(limit)d 行，请分成几个文件。", limit=MAX_ROWS),
    }
    return messages.get(problem.kind, messages["unreadable"])


def plan_file(path: Path, org: Organization, today: date) -> Plan:
    try:
        rows = read_roster(path)
    except FileProblem as problem:
        raise RosterFileError(file_problem_message(problem)) from None
    if not rows:
        raise RosterFileError(_("表头下面没有党员数据。"))
    return build_plan(rows, org, today)

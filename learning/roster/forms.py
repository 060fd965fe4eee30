from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class RosterUploadForm(FlaskForm):
    roster = FileField(_l("名册文件（.xlsx 或 .csv）"), validators=[FileRequired(_l("请选择名册文件。"))],
                       render_kw={"accept": ".xlsx,.csv,text/csv"})

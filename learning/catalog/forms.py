from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, StringField
from wtforms.validators import AnyOf

STATUS_LABELS = {"published": _l("发布"), "draft": _l("撤回为草稿"), "archived": _l("归档")}


class UploadForm(FlaskForm):
    package = FileField(_l("课程包（.zip）"), validators=[FileRequired(_l("请选择一个 .zip 课程包。"))])
    publish = BooleanField(_l("导入后立即发布"))


class StatusForm(FlaskForm):
    # A plain field checked against the allowed values (WTForms 3.3 deprecates tuple choices).
    status = StringField(validators=[AnyOf(list(STATUS_LABELS))])

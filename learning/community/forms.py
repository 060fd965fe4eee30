from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from learning.community.operations import REASON_MAX, TITLE_MAX


class PostForm(FlaskForm):
    title = StringField(_l("标题"), validators=[Optional(), Length(max=TITLE_MAX, message=_l("标题最多 80 个字。"))])
    body = TextAreaField(_l("内容"), validators=[DataRequired(message=_l("请填写内容。"))],
                         description=_l("支持 Markdown；用 @姓名 提醒本支部的党员或参与讨论的人。"))
    reply_to = HiddenField()
    quote = BooleanField(_l("引用原文"))


class ReportForm(FlaskForm):
    reason = StringField(_l("举报理由"), validators=[
        DataRequired(message=_l("请写明举报理由。")), Length(max=REASON_MAX, message=_l("理由最多 200 个字。"))])


class ModerateForm(FlaskForm):
    action = SelectField(_l("操作"), choices=[
        SelectChoice("hide", _l("隐藏")), SelectChoice("restore", _l("恢复")), SelectChoice("approve", _l("通过")),
        SelectChoice("reject", _l("不通过")), SelectChoice("dismiss", _l("驳回举报"))])
    reason = StringField(_l("理由"), validators=[
        DataRequired(message=_l("请写明理由。")), Length(max=REASON_MAX, message=_l("理由最多 200 个字。"))])


class WordsForm(FlaskForm):
    words = TextAreaField(_l("审核词（每行一个）"), validators=[Length(max=20000)])


class ConfirmForm(FlaskForm):
    """A button: only the CSRF token."""

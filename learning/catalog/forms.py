from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DecimalField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, ValidationError

from content import CATEGORIES, OCCUPATIONS
from learning.meetings.forms import CheckboxesField
from learning.orgs.kinds import KIND_LABELS

STATUS_LABELS = {"published": _l("发布"), "draft": _l("撤回为草稿"), "archived": _l("归档")}


class UploadForm(FlaskForm):
    package = FileField(_l("课程包（.zip）"), validators=[FileRequired(_l("请选择一个 .zip 课程包。"))])
    publish = BooleanField(_l("导入后立即发布"))


class StatusForm(FlaskForm):
    # A plain field checked against the allowed values (WTForms 3.3 deprecates tuple choices).
    status = StringField(validators=[AnyOf(list(STATUS_LABELS))])


class MetadataForm(FlaskForm):
    title = StringField(_l("课程名称"), validators=[DataRequired(_l("请填写课程名称。")), Length(max=200)])
    summary = TextAreaField(_l("简介"), validators=[Length(max=2000)])
    category = StringField(_l("分类"), validators=[AnyOf(list(CATEGORIES), message=_l("请选择列表中的分类。"))])
    hours = DecimalField(_l("学时"), places=2, validators=[
        DataRequired(_l("请填写学时。")),
        NumberRange(min=0.1, max=100, message=_l("学时应在 0.1 到 100 之间。"))])
    audience = StringField(_l("适合的职业（用逗号分隔，留空表示所有人）"), validators=[Length(max=200)])
    allowed_kinds = CheckboxesField(_l("限定学员类别（都不选表示所有人；职业技能类课程对所有人开放）"),
                                    choices=[SelectChoice(k, v) for k, v in KIND_LABELS.items()])

    def validate_audience(self, field) -> None:
        unknown = [o for o in self.audience_list() if o not in OCCUPATIONS]
        if unknown:
            raise ValidationError(_l("未知职业：%(names)s", names="、".join(unknown)))

    def audience_list(self) -> list[str]:
        text = (self.audience.data or "").replace("，", ",").replace("、", ",")
        return [part.strip() for part in text.split(",") if part.strip()]


# The browser editor's forms. Their values go into package files unchecked (besides CSRF): the
# package validator judges them, so the editor and an uploaded package obey the same rules and
# speak with the same messages. Lists (audience, prerequisites, questions) are read from the
# request by the view, since their number of inputs varies.
class DraftCourseForm(FlaskForm):
    id = StringField(_l("课程 id（英文小写字母、数字和“-”，保存后不能更改）"))
    version = StringField(_l("版本号"), default="1.0.0")
    title = StringField(_l("课程名称"))
    summary = TextAreaField(_l("简介"))
    category = StringField(_l("分类"))
    hours = StringField(_l("学时"))
    tags = StringField(_l("标签（用逗号分隔）"))
    prerequisites = StringField(_l("先修课程（其他课程的 id，用逗号分隔）"))
    cover = FileField(_l("封面图片（png、jpg 或 webp）"))


class DraftLessonForm(FlaskForm):
    title = StringField(_l("课时名称"))
    duration = StringField(_l("时长（如 5m、1m30s，或秒数）"))
    min_dwell = StringField(_l("最短有效学习时间（留空为时长的一半）"))
    optional = BooleanField(_l("选学（不学也能完成课程）"))
    body = TextAreaField(_l("正文（Markdown）"))
    media = FileField(_l("媒体文件"))
    pass_score = StringField(_l("及格分（0–100）"))


class DraftImportForm(FlaskForm):
    publish = BooleanField(_l("保存后立即发布"))

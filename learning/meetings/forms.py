from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from content import CATEGORIES
from learning.meetings.queries import KINDS
from learning.timeutil import local_today


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SessionForm(FlaskForm):
    title = StringField(_l("主题"), validators=[DataRequired(message=_l("请填写主题。")), Length(max=120)])
    kind = SelectField(_l("形式"), choices=[SelectChoice(k, v) for k, v in KINDS.items()])
    held_on = DateField(_l("日期"), validators=[InputRequired(message=_l("请填写日期。"))])
    hours = DecimalField(_l("学时"), places=1, validators=[
        InputRequired(message=_l("请填写学时。")),
        NumberRange(min=0.5, max=8, message=_l("学时须在 0.5 到 8 之间。"))])
    category = SelectField(_l("分类"), choices=[SelectChoice(c, c) for c in CATEGORIES])
    attendees = CheckboxesField(_l("参加人员"), coerce=int,
                                validators=[DataRequired(message=_l("请至少选择一名参加人员。"))])

    def validate_held_on(self, field) -> None:
        today = local_today()
        if field.data > today:
            raise ValidationError(_l("日期不能晚于今天。"))
        if field.data.year < today.year - 1:
            raise ValidationError(_l("只能补录今年和去年的学习。"))

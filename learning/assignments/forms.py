from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from learning.timeutil import local_today


class AssignmentForm(FlaskForm):
    org = SelectField(_l("下达给"), coerce=str)
    course = SelectField(_l("课程"), coerce=str)
    due_on = DateField(_l("截止日期"), validators=[InputRequired(message=_l("请填写截止日期。"))])
    note = StringField(_l("说明（可选）"), validators=[Optional(), Length(max=200)])

    def validate_due_on(self, field) -> None:
        today = local_today()
        if field.data < today:
            raise ValidationError(_l("截止日期不能早于今天。"))
        if field.data.year > today.year + 1:
            raise ValidationError(_l("截止日期不能晚于明年年底。"))

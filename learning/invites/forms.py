from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, ValidationError

from content import OCCUPATIONS
from learning.auth.passwords import MAX_LENGTH, MIN_LENGTH
from learning.timeutil import local_today


class InvitationForm(FlaskForm):
    days = IntegerField(_l("有效天数"), default=7,
                        validators=[NumberRange(min=1, max=90, message=_l("有效天数应在 1 到 90 之间。"))])
    max_uses = IntegerField(_l("最多可用次数"), default=30,
                            validators=[NumberRange(min=1, max=1000, message=_l("次数应在 1 到 1000 之间。"))])


class RegisterForm(FlaskForm):
    name = StringField(_l("姓名"), validators=[DataRequired(_l("请输入姓名。")), Length(max=64)],
                       render_kw={"autocomplete": "name"})
    phone = StringField(_l("手机号"), validators=[DataRequired(_l("请输入手机号。"))],
                        render_kw={"autocomplete": "tel", "inputmode": "tel"})
    birth_year = IntegerField(_l("出生年份"), render_kw={"inputmode": "numeric"},
                              validators=[DataRequired(_l("请输入出生年份，如 1990。"))])
    occupation = SelectField(_l("职业"), choices=[SelectChoice(o) for o in OCCUPATIONS])
    password = PasswordField(_l("设置密码"), render_kw={"autocomplete": "new-password"}, validators=[
        DataRequired(_l("请输入新密码。")),
        Length(min=MIN_LENGTH, max=MAX_LENGTH,
               message=_l("密码长度应为 %(min)d 到 %(max)d 个字符。", min=MIN_LENGTH, max=MAX_LENGTH))])
    confirm = PasswordField(_l("再次输入新密码"), render_kw={"autocomplete": "new-password"},
                            validators=[EqualTo("password", message=_l("两次输入的新密码不一致。"))])

    def validate_birth_year(self, field: IntegerField) -> None:
        if not 1915 <= field.data <= local_today().year - 18:
            raise ValidationError(_l("请输入正确的出生年份（须年满 18 岁）。"))

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from learning.auth.passwords import MAX_LENGTH, MIN_LENGTH


def new_password_field(label) -> PasswordField:
    """A new password within the length limits (changing it, or setting it on activation)."""
    return PasswordField(label, validators=[
        DataRequired(_l("请输入新密码。")),
        Length(min=MIN_LENGTH, max=MAX_LENGTH,
               message=_l("密码长度应为 %(min)d 到 %(max)d 个字符。", min=MIN_LENGTH, max=MAX_LENGTH)),
    ], render_kw={"autocomplete": "new-password"})


def confirm_field() -> PasswordField:
    """The new password typed again; must equal the field named "new"."""
    return PasswordField(_l("再次输入新密码"), validators=[EqualTo("new", message=_l("两次输入的新密码不一致。"))],
                         render_kw={"autocomplete": "new-password"})


class LoginForm(FlaskForm):
    phone = StringField(_l("手机号"), validators=[DataRequired(_l("请输入手机号。"))],
                        render_kw={"autocomplete": "username", "inputmode": "tel"})
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码。"))],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("在这台手机上保持登录 30 天"), default=True)
    next = HiddenField()


class PasswordForm(FlaskForm):
    current = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请输入当前密码。"))],
                            render_kw={"autocomplete": "current-password"})
    new = new_password_field(_l("新密码"))
    confirm = confirm_field()


class ActivateForm(FlaskForm):
    phone = StringField(_l("手机号"), validators=[DataRequired(_l("请输入手机号。"))],
                        render_kw={"autocomplete": "username", "inputmode": "tel"})
    code = StringField(_l("激活码"), validators=[DataRequired(_l("请输入支部书记给你的激活码。"))],
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "characters"})
    new = new_password_field(_l("设置密码"))
    confirm = confirm_field()

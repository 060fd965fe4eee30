from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class StationForm(FlaskForm):
    name = StringField(_l("驿站名称"), validators=[DataRequired(_l("请输入驿站名称。")), Length(max=80)])
    address = StringField(_l("地址"), validators=[Optional(), Length(max=200)])
    orgs = StringField(_l("服务的组织（组织编码，用逗号或空格分隔）"),
                       validators=[DataRequired(_l("请至少填写一个组织编码。")), Length(max=1000)])
    active = BooleanField(_l("启用"), default=True)


class ItemForm(FlaskForm):
    name = StringField(_l("物品名称"), validators=[DataRequired(_l("请输入物品名称。")), Length(max=60)])
    price = IntegerField(_l("所需积分"), render_kw={"inputmode": "numeric"},
                         validators=[NumberRange(min=1, max=100000, message=_l("所需积分应在 1 到 100000 之间。"))])
    stock = IntegerField(_l("库存"), default=0, render_kw={"inputmode": "numeric"},
                         validators=[NumberRange(min=0, max=100000, message=_l("库存应在 0 到 100000 之间。"))])
    active = BooleanField(_l("可兑换"), default=True)


class StaffForm(FlaskForm):
    phone = StringField(_l("工作人员手机号"), validators=[DataRequired(_l("请输入手机号。"))],
                        render_kw={"inputmode": "tel"})


class CodeForm(FlaskForm):
    """What staff type: the digits under the member's QR code (a GET form, no CSRF needed)."""

    class Meta:
        csrf = False

    code = StringField(_l("兑换码"), validators=[DataRequired(_l("请输入兑换码。")), Length(max=40)],
                       render_kw={"inputmode": "numeric", "autocomplete": "off", "autofocus": True})

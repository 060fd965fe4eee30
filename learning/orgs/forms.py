from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from learning.orgs.models import Organization, OrgKind, Role

KIND_CHOICES = [SelectChoice(OrgKind.COMMITTEE.value, _l("党委 / 工委")),
                SelectChoice(OrgKind.GENERAL_BRANCH.value, _l("党总支")),
                SelectChoice(OrgKind.BRANCH.value, _l("党支部"))]
ROLE_CHOICES = [SelectChoice(Role.SECRETARY.value, _l("支部书记 / 党委书记")),
                SelectChoice(Role.ORG_ADMIN.value, _l("组织管理员"))]
CODE = Regexp(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$", message=_l("编码只能用字母、数字、- 和 _，最多 32 位。"))


def org_choices(orgs: Iterable[Organization]) -> list[SelectChoice]:
    return [SelectChoice(o.code, f"{o.name} ({o.code})") for o in orgs]


class ConfirmForm(FlaskForm):
    """A button that changes something: CSRF only."""


class OrgEditForm(FlaskForm):
    name = StringField(_l("名称"), validators=[DataRequired(_l("请输入名称。")), Length(max=120)])
    kind = SelectField(_l("类型"), choices=KIND_CHOICES)
    industry = StringField(_l("行业"), validators=[Optional(), Length(max=40)])
    region = StringField(_l("地区"), validators=[Optional(), Length(max=40)])


class OrgCreateForm(OrgEditForm):
    code = StringField(_l("组织编码"), validators=[DataRequired(_l("请输入组织编码。")), CODE])
    parent = SelectField(_l("上级组织"), choices=[])


class MoveForm(FlaskForm):
    parent = SelectField(_l("新的上级组织"), choices=[])


class GrantForm(FlaskForm):
    phone = StringField(_l("党员手机号"), validators=[DataRequired(_l("请输入手机号。"))],
                        render_kw={"inputmode": "tel"})
    org = SelectField(_l("组织"), choices=[])
    role = SelectField(_l("角色"), choices=ROLE_CHOICES)


class TransferForm(FlaskForm):
    """The sending secretary names the member; a member asking for themself leaves it out."""

    phone = StringField(_l("党员手机号"), validators=[Optional()], render_kw={"inputmode": "tel"})
    to_code = StringField(_l("转入支部编码"), validators=[DataRequired(_l("请输入转入支部的编码。")), CODE])
    effective_on = DateField(_l("生效日期"), validators=[DataRequired(_l("请选择生效日期。"))])
    reason = StringField(_l("原因（如：工作变动）"), validators=[Optional(), Length(max=200)])

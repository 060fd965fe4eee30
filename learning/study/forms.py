from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, IntegerField
from wtforms.validators import InputRequired, NumberRange


class ActionForm(FlaskForm):
    """A button that changes state: a POST with the CSRF token and nothing else."""


class TargetsForm(FlaskForm):
    """One year's 学时 targets: members, and secretaries / committee members."""

    year = IntegerField(_l("年度"), validators=[
        InputRequired(_l("请填写年度。")),
        NumberRange(min=2000, max=2100, message=_l("年度应在 2000 到 2100 之间。"))])
    member = DecimalField(_l("党员（学时）"), places=1, validators=[
        InputRequired(_l("请填写党员的年度学时目标。")),
        NumberRange(min=1, max=500, message=_l("学时目标应在 1 到 500 之间。"))])
    secretary = DecimalField(_l("支部书记和委员（学时）"), places=1, validators=[
        InputRequired(_l("请填写支部书记和委员的年度学时目标。")),
        NumberRange(min=1, max=500, message=_l("学时目标应在 1 到 500 之间。"))])

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length


class ReflectionForm(FlaskForm):
    # Length limits are settings: the operation checks them and speaks the message.
    body = TextAreaField(_l("学习心得"), validators=[DataRequired(_l("请写下你的学习心得。"))])


class ReviewForm(FlaskForm):
    decision = StringField(validators=[AnyOf(["approve", "return"])])
    comment = TextAreaField(_l("审核意见（退回时必填）"), validators=[Length(max=500)])


class FeatureForm(FlaskForm):
    featured = StringField(validators=[AnyOf(["1", "0"])])

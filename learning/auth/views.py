from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from learning.auth import bp, operations
from learning.auth.forms import ActivateForm, LoginForm, PasswordForm
from learning.netutil import client_address


def safe_next(target: str | None) -> str:
    """Only same-site relative paths: '/x' yes; '//evil', 'https://evil', '/\\evil' no."""
    if not target:
        return url_for("study.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith(("//", "/\\")) or "\\" in target:
        return url_for("study.home")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            member = operations.authenticate(form.phone.data, form.password.data, client_address())
        except operations.TooManyAttempts:
            form.password.errors.append(_("尝试次数过多，请 15 分钟后再试。"))
            return render_template("auth/login.html", form=form), 429
        except operations.InvalidCredentials:
            form.password.errors.append(_("手机号或密码不正确。"))
            return render_template("auth/login.html", form=form), 401
        login_user(member, remember=bool(form.remember.data))
        # The session cookie (which holds the CSRF secret) lives as long as remember-me.
        session.permanent = bool(form.remember.data)
        if member.must_change_password:
            return redirect(url_for("auth.password"))
        return redirect(safe_next(form.next.data))
    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    operations.end_all_sessions(current_user)
    logout_user()
    flash(_("你已退出登录。"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            operations.change_password(current_user, form.current.data, form.new.data)
        except operations.InvalidCredentials:
            form.current.errors.append(_("当前密码不正确。"))
            return render_template("auth/password.html", form=form), 400
        except operations.PasswordRejected:
            abort(400)
        # The session version changed: log this device in again with the new one.
        login_user(current_user._get_current_object(), remember=session.permanent)
        flash(_("密码已修改，其他设备上的登录已失效。"), "success")
        return redirect(url_for("study.home"))
    return render_template("auth/password.html", form=form), (400 if form.errors else 200)


@bp.route("/activate", methods=["GET", "POST"])
def activate():
    """First sign-in of an account a secretary created: phone + one-time code + own password."""
    form = ActivateForm()
    if form.validate_on_submit():
        try:
            member = operations.activate(form.phone.data, form.code.data, form.new.data, client_address())
        except operations.TooManyAttempts:
            form.code.errors.append(_("尝试次数过多，请 15 分钟后再试。"))
            return render_template("auth/activate.html", form=form), 429
        except operations.CodeRejected:
            form.code.errors.append(_("手机号或激活码不正确，或激活码已过期。请向支部书记重新索取。"))
            return render_template("auth/activate.html", form=form), 401
        except operations.PasswordRejected:
            abort(400)
        login_user(member, remember=False)
        flash(_("账号已激活，欢迎来到红帆学院。"), "success")
        return redirect(url_for("study.home"))
    return render_template("auth/activate.html", form=form), (400 if form.errors else 200)

"""Error pages in the user's language, and JSON errors for the API."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: _l("请求有误，请检查后重试。"),
    401: _l("请先登录。"),
    403: _l("你没有权限查看这个页面。"),
    404: _l("页面不存在。"),
    405: _l("不支持这种请求方式。"),
    413: _l("上传的文件太大。"),
    429: _l("尝试次数过多，请稍后再试。"),
}


def _message(code: int) -> str:
    return str(MESSAGES[code]) if code in MESSAGES else _("服务暂时出现问题，请稍后再试。")


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        return _render(400, _("页面已过期，请刷新后重新提交。"))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        return _render(error.code or 500, _message(error.code or 500))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("unhandled error")
        return _render(500, _message(500))


def _render(code: int, message: str):
    if request.path.startswith("/api/"):
        return jsonify({"error": message, "status": code}), code
    return render_template("errors/error.html", code=code, message=message), code

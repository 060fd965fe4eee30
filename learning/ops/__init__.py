"""Operations: the health endpoint, structured logs, trusting a reverse proxy, `hongfan serve`,
`hongfan backup` / `hongfan restore`. Registered by the factory through init_app."""
from __future__ import annotations

from flask import Blueprint, Flask
from werkzeug.middleware.proxy_fix import ProxyFix

bp = Blueprint("ops", __name__)


def init_app(app: Flask) -> None:
    from learning.ops import health as _health  # noqa: F401  (routes)
    from learning.ops import logs
    from learning.ops.backup import backup_command, restore_command
    from learning.ops.serve import serve_command

    app.register_blueprint(bp)
    logs.init_app(app)
    hops = int(app.config["TRUSTED_PROXIES"])
    if hops:
        # Only when configured: the client address, scheme (https → HSTS, Secure redirects) and
        # host come from the X-Forwarded-* headers of that many proxies, and nobody else's.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    for command in (serve_command, backup_command, restore_command):
        app.cli.add_command(command)

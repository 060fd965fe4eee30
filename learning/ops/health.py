"""GET /healthz for load balancers, nginx and monitoring: is this app server able to serve?

Public (a load balancer has no login) and free of personal data: the status, the version, and
whether the database (and the read replica, when one is configured) answered a trivial query.
503 when the primary database does not answer, so a balancer takes the server out; a replica
that does not answer is reported but keeps 200 — pages still work, dashboards would not.
"""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from flask import current_app, jsonify
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from learning.database import replica_engine
from learning.extensions import db
from learning.ops import bp


def app_version() -> str:
    try:
        return version("hongfan-academy")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"


def _answers(engine: Engine | None = None) -> bool:
    """Whether the primary database (or the given replica engine) answers SELECT 1."""
    try:
        if engine is None:
            db.session.execute(text("SELECT 1")).scalar_one()
        else:
            with Session(bind=engine) as session:
                session.execute(text("SELECT 1")).scalar_one()
        return True
    except Exception:  # any failure to answer is "unavailable"; its details go to the log only
        current_app.logger.warning("health check: %s database unavailable", "replica" if engine else "primary",
                                   exc_info=True)
        db.session.rollback()
        return False


@bp.route("/healthz", methods=["GET", "HEAD"])
def healthz():
    checks = {"database": "ok" if _answers() else "unavailable"}
    if (replica := replica_engine()) is not None:
        checks["replica"] = "ok" if _answers(replica) else "unavailable"
    healthy = checks["database"] == "ok"
    status = "ok" if healthy and all(v == "ok" for v in checks.values()) else ("degraded" if healthy else "error")
    response = jsonify({"status": status, "version": app_version(), "checks": checks})
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if healthy else 503

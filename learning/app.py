"""The application factory."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from flask import Flask

from learning import database, errors, i18n, pagecache, security
from learning.config import finalize, load_config
from learning.extensions import csrf, db, migrate
from learning.resources import PACKAGE_DIR, resource_dir


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. Configuration layers, later wins: defaults → instance/hongfan.toml →
    HONGFAN_* environment variables → `config`."""
    instance = (config or {}).get("INSTANCE_PATH") or os.environ.get("HONGFAN_INSTANCE_PATH")
    app = Flask(
        "learning",
        instance_path=str(Path(instance).resolve()) if instance else None,
        template_folder=str(resource_dir("templates")),
        static_folder=str(PACKAGE_DIR / "static"),
    )
    instance_path = Path(app.instance_path)
    instance_path.mkdir(parents=True, exist_ok=True)
    app.config.update(finalize(load_config(instance_path, config), instance_path))

    _import_models()
    database.init_app(app)
    pagecache.init_app(app)  # before learning/pwa's compression, which uses its store
    migrate.init_app(app, db, directory=str(resource_dir("migrations")), render_as_batch=True)
    csrf.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)

    from learning import (api, assignments, audit, auth, catalog, community, invites, meetings, orgs, plans,
                          privacy, pwa, redemption, reflections, roster, stats, study)
    # Views are imported here, not by the packages' __init__: models and queries can then be
    # imported in any order without dragging in (and cycling through) every blueprint.
    from learning.api import pages as _api_pages, views as _api_views  # noqa: F401
    from learning.assignments import views as _assignments_views  # noqa: F401
    from learning.audit import views as _audit_views  # noqa: F401
    from learning.auth import views as _auth_views  # noqa: F401
    from learning.catalog import admin as _catalog_admin  # noqa: F401
    from learning.catalog import api as _catalog_api  # noqa: F401
    from learning.catalog import authoring as _catalog_authoring  # noqa: F401
    from learning.catalog import views as _catalog_views  # noqa: F401
    from learning.community import api as _community_api, views as _community_views  # noqa: F401
    from learning.invites import views as _invites_views  # noqa: F401
    from learning.meetings import views as _meetings_views  # noqa: F401
    from learning.orgs import views as _orgs_views  # noqa: F401
    from learning.plans import api as _plans_api, views as _plans_views  # noqa: F401
    from learning.privacy import views as _privacy_views  # noqa: F401
    from learning.pwa import api as _pwa_api, views as _pwa_views  # noqa: F401
    from learning.reflections import api as _reflections_api, views as _reflections_views  # noqa: F401
    from learning.redemption import api as _redemption_api, views as _redemption_views  # noqa: F401
    from learning.roster import views as _roster_views  # noqa: F401
    from learning.stats import api as _stats_api, views as _stats_views  # noqa: F401
    from learning.study import admin as _study_admin, api as _study_api  # noqa: F401
    from learning.study import member_api as _study_member_api, views as _study_views  # noqa: F401

    auth.init_app(app)
    blueprints = (auth.bp, study.bp, catalog.bp, orgs.bp, plans.bp, stats.bp, assignments.bp, meetings.bp,
                  roster.bp, invites.bp, privacy.bp, audit.bp, pwa.bp, reflections.bp, redemption.bp,
                  community.bp, api.bp, api.account)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)

    @app.context_processor
    def _nav():
        from flask_login import current_user

        from learning.orgs.queries import is_admin, is_manager

        signed_in = current_user.is_authenticated
        return {"nav": {"manager": signed_in and is_manager(current_user),
                        "admin": signed_in and is_admin(current_user)}}

    from learning.catalog.storage import clean_stale_work

    clean_stale_work(app)

    from learning.cli import register_commands

    register_commands(app)
    from learning import ops

    ops.init_app(app)  # health endpoint, request logs, proxy trust, serve/backup/restore commands
    return app


def _import_models() -> None:
    """Every model module, so metadata (and Alembic) see all tables."""
    from learning.api import models as _api  # noqa: F401
    from learning.assignments import models as _assignments  # noqa: F401
    from learning.audit import models as _audit  # noqa: F401
    from learning.auth import models as _auth  # noqa: F401
    from learning.catalog import models as _catalog  # noqa: F401
    from learning.community import models as _community  # noqa: F401
    from learning.invites import models as _invites  # noqa: F401
    from learning.meetings import models as _meetings  # noqa: F401
    from learning.orgs import models as _orgs  # noqa: F401
    from learning.pagecache import models as _pagecache  # noqa: F401
    from learning.plans import models as _plans  # noqa: F401
    from learning.reflections import models as _reflections  # noqa: F401
    from learning.redemption import models as _redemption  # noqa: F401
    from learning.study import models as _study  # noqa: F401

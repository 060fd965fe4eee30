"""`hongfan db upgrade` builds exactly the schema the models describe (SQLite and PostgreSQL)."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from learning import create_app
from learning.extensions import db


def test_migrated_schema_matches_the_models(fresh_url, tmp_path):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": fresh_url,
                      "SECRET_KEY": "test"})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], diff
        tables = set(inspect(db.engine).get_table_names())
        assert {"organization", "member", "org_membership", "role_grant", "course", "lesson", "lesson_progress",
                "study_event", "course_completion", "member_year", "audit_event"} <= tables
        # and back down to nothing, cleanly
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_db_upgrade_command(fresh_url, tmp_path):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": fresh_url,
                      "SECRET_KEY": "test"})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert "member" in inspect(db.engine).get_table_names()
        db.engine.dispose()

from __future__ import annotations

import re
from pathlib import Path

from learning import create_app

ROOT = Path(__file__).resolve().parent.parent


def test_configuration_layers(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "hongfan.toml").write_text(
        'annual_target_member = 24\nlogin_limit_per_account = 7\nremember_days = 10\n', encoding="utf-8")
    monkeypatch.setenv("HONGFAN_LOGIN_LIMIT_PER_ACCOUNT", "9")
    monkeypatch.setenv("HONGFAN_REMEMBER_DAYS", "12")
    app = create_app({"INSTANCE_PATH": str(instance), "REMEMBER_DAYS": 14})
    assert app.config["ANNUAL_TARGET_MEMBER"] == 24  # toml over defaults
    assert app.config["LOGIN_LIMIT_PER_ACCOUNT"] == 9  # environment over toml
    assert app.config["REMEMBER_DAYS"] == 14  # argument over environment
    assert app.config["REMEMBER_COOKIE_DURATION"].days == 14


def test_secret_key_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("HONGFAN_SECRET_KEY", raising=False)
    instance = tmp_path / "instance"
    first = create_app({"INSTANCE_PATH": str(instance)}).config["SECRET_KEY"]
    second = create_app({"INSTANCE_PATH": str(instance)}).config["SECRET_KEY"]
    assert first == second and len(first) >= 40
    assert (instance / "secret_key").stat().st_mode & 0o077 == 0
    other = create_app({"INSTANCE_PATH": str(tmp_path / "elsewhere")}).config["SECRET_KEY"]
    assert other != first


def test_no_secret_key_is_hard_coded():
    pattern = re.compile(r"SECRET_KEY['\"]?\s*[:=]\s*['\"][^'\"]+['\"]")
    for path in (ROOT / "learning").rglob("*.py"):
        assert not pattern.search(path.read_text(encoding="utf-8")), path


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("HONGFAN_DATABASE_URL", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path / "inst")})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'inst' / 'hongfan.sqlite3'}"


def test_sqlite_pragmas(tmp_path, monkeypatch):
    monkeypatch.delenv("HONGFAN_DATABASE_URL", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path / "inst")})
    from learning.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    with app.app_context():
        db.engine.dispose()

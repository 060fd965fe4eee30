"""A database of its own for one benchmark run: a SQLite file, or a fresh PostgreSQL database
created through an administrative connection and dropped afterwards (with any sessions the
servers under test still hold)."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path


def temporary_database(kind: str, sqlite_file: Path, admin_url: str, prefix: str) -> tuple[str, Callable[[], None]]:
    """The database URL and a function that removes the database."""
    if kind == "sqlite":
        return f"sqlite:///{sqlite_file}", lambda: None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop

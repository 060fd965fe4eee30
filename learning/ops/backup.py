"""`hongfan backup OUT` and `hongfan restore IN`: the database and the instance's files in one archive.

What an archive holds (a tar file, gzip-compressed when OUT ends in .tar.gz or .tgz):

    database/hongfan.sqlite3   SQLite: a consistent copy made with SQLite's online backup API
    database/hongfan.pgdump    PostgreSQL: `pg_dump --format=custom` of the same snapshot
    instance/courses/…         the stored course packages the database points at (media)
    instance/drafts/…          course packages being written in the browser editor
    instance/models/…          trained recommender models (retraining would give another plan)
    instance/secret_key        signs sessions: members stay logged in after a restore
    instance/hongfan.toml      the instance's settings, put back only where there are none
    manifest.json              format, time, app version, schema revision, row count of every
                               table and the sha256 of every file

The copy is taken while the academy runs: SQLite's backup API (or pg_dump's exported snapshot)
gives one consistent state of the database, and only the course folders that state points at
are copied. A course version folder never changes once its import committed; it is removed
when a newer version commits, so if one disappears while it is copied the whole backup is
taken again from a fresh snapshot.

A restore verifies everything before it touches the instance (checksums, `PRAGMA
integrity_check` or `pg_restore --list`, row counts), refuses to replace existing data without
--force, and with --force moves what it replaces into instance/pre-restore-<time>/ rather than
deleting it. Stop the app servers first.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from learning.extensions import db

FORMAT = "hongfan-backup"
FORMAT_VERSION = 1
SQLITE_NAME = "database/hongfan.sqlite3"
PGDUMP_NAME = "database/hongfan.pgdump"
FOLDERS = ("drafts", "models")  # copied whole; courses/ only as far as the database points
FILES = ("secret_key", "hongfan.toml")
ATTEMPTS = 3


class BackupError(click.ClickException):
    pass


class _Vanished(Exception):
    """A file went away while it was copied (a newer course version committed)."""


@dataclass
class Snapshot:
    dialect: str
    database_file: Path  # the SQLite copy or the pg_dump file, in the staging folder
    tables: dict[str, int]
    media_dirs: list[str]
    revision: str | None


# --- helpers ---------------------------------------------------------------------------------

def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("the database is not a SQLite file; nothing to back up")
    return Path(database)


def _pg_environment(url: str) -> dict[str, str]:
    """libpq settings for pg_dump/pg_restore, passed in the environment (a password on the
    command line would be visible to every user of the machine)."""
    u = make_url(url)
    env = dict(os.environ)
    for key, value in (("PGHOST", u.host), ("PGPORT", u.port), ("PGUSER", u.username),
                       ("PGPASSWORD", u.password), ("PGDATABASE", u.database),
                       ("PGSSLMODE", u.query.get("sslmode"))):
        if value:
            env[key] = str(value)
    return env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools (Debian: postgresql-client) "
                          f"of the server's major version, or use {name} yourself as the README shows")
    return found


def _run(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(argv, env=env, capture_output=True, text=True)  # noqa: S603 -- argv list, no shell; pg_dump/pg_restore found by _pg_tool
    if done.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return done.stdout


def quoted(name: str) -> str:
    """A table name as an SQL identifier ("" doubled): names come from a backup's files."""
    return '"' + name.replace('"', '""') + '"'


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {name: conn.execute(f"SELECT count(*) FROM {quoted(name)}").fetchone()[0]  # noqa: S608 -- quoted identifier
            for name in names}


def _revision_of(rows: list[tuple]) -> str | None:
    return rows[0][0] if rows else None


# --- taking the snapshot ---------------------------------------------------------------------

def _snapshot_sqlite(url: str, staging: Path) -> Snapshot:
    source_path = _sqlite_path(url)
    if not source_path.is_file():
        raise BackupError(f"no database at {source_path}")
    target = staging / "hongfan.sqlite3"
    busy = int(current_app.config["SQLITE_BUSY_TIMEOUT_MS"]) / 1000
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=busy)
    copy = sqlite3.connect(target)
    try:
        # One step (pages=-1): the copy is the state of one read transaction; in WAL mode
        # writers carry on meanwhile.
        source.backup(copy)
    finally:
        source.close()
    try:
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
        check = copy.execute("PRAGMA integrity_check").fetchall()
        if check != [("ok",)]:
            raise BackupError(f"the database copy failed its integrity check: {check[:5]}")
        tables = _sqlite_counts(copy)
        media = [r[0] for r in copy.execute("SELECT media_dir FROM course WHERE media_dir IS NOT NULL")] \
            if "course" in tables else []
        revision = _revision_of(copy.execute("SELECT version_num FROM alembic_version").fetchall()) \
            if "alembic_version" in tables else None
    finally:
        copy.close()
    return Snapshot("sqlite", target, tables, media, revision)


def _snapshot_postgresql(url: str, staging: Path) -> Snapshot:
    pg_dump = _pg_tool("pg_dump")
    target = staging / "hongfan.pgdump"
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            # pg_dump reads the very snapshot the counts below were taken in.
            snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            names = sorted(inspect(conn).get_table_names())
            tables = {n: conn.execute(text(f"SELECT count(*) FROM {quoted(n)}")).scalar_one()  # noqa: S608 -- quoted identifier
                      for n in names}
            media = list(conn.execute(text("SELECT media_dir FROM course WHERE media_dir IS NOT NULL")).scalars()) \
                if "course" in tables else []
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() \
                if "alembic_version" in tables else None
            _run([pg_dump, "--format=custom", f"--snapshot={snapshot_id}", "--no-owner", "--no-privileges",
                  f"--file={target}"], _pg_environment(url))
    return Snapshot("postgresql", target, tables, media, revision)


def _snapshot(staging: Path) -> Snapshot:
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        return _snapshot_sqlite(url, staging)
    if dialect == "postgresql":
        return _snapshot_postgresql(url, staging)
    raise BackupError(f"backups of {dialect} databases are not supported")


# --- writing the archive ---------------------------------------------------------------------

def _instance_files(instance: Path, media_dirs: list[str]) -> list[tuple[Path, str]]:
    """(file on disk, name in the archive) for every instance file the backup keeps."""
    roots = []
    for media_dir in sorted(set(media_dirs)):
        folder = instance / "courses" / media_dir
        if not folder.is_dir():  # removed since the snapshot: a newer version committed
            raise _Vanished(str(folder))
        roots.append(folder)
    roots += [instance / name for name in FOLDERS if (instance / name).is_dir()]
    chosen: list[tuple[Path, str]] = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            # .model-*.partial: a model being written (renamed into place when complete)
            if path.is_file() and not path.is_symlink() and not path.name.startswith(".model-"):
                chosen.append((path, "instance/" + path.relative_to(instance).as_posix()))
    for name in FILES:
        if (instance / name).is_file():
            chosen.append((instance / name, f"instance/{name}"))
    return chosen


def _tar_mode(path: Path, writing: bool) -> str:
    gz = path.name.endswith((".tar.gz", ".tgz"))
    return ("w:gz" if gz else "w") if writing else ("r:gz" if gz else "r:*")


def _write_archive(out: Path, snap: Snapshot, files: list[tuple[Path, str]]) -> dict[str, Any]:
    database_name = SQLITE_NAME if snap.dialect == "sqlite" else PGDUMP_NAME
    checksums: dict[str, str] = {}
    total = 0
    partial = out.with_name(f".{out.name}.partial")
    try:
        with tarfile.open(partial, _tar_mode(out, writing=True)) as tar:
            for path, name in [(snap.database_file, database_name), *files]:
                try:
                    info = tar.gettarinfo(str(path), arcname=name)
                    with path.open("rb") as fh:
                        digest = hashlib.sha256()
                        reader = _HashingReader(fh, digest)
                        tar.addfile(info, reader)
                except FileNotFoundError as error:
                    raise _Vanished(str(path)) from error
                checksums[name] = digest.hexdigest()
                total += info.size
            manifest = {
                "format": FORMAT, "format_version": FORMAT_VERSION,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "app_version": _app_version(), "dialect": snap.dialect, "alembic_revision": snap.revision,
                "tables": snap.tables, "files": checksums, "bytes": total,
            }
            data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mtime, info.mode = len(data), int(datetime.now(UTC).timestamp()), 0o600
            tar.addfile(info, io.BytesIO(data))
        os.chmod(partial, 0o600)  # it holds personal data and the secret key
        partial.replace(out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest


class _HashingReader:
    def __init__(self, fh, digest) -> None:
        self.fh, self.digest = fh, digest

    def read(self, size: int = -1) -> bytes:
        data = self.fh.read(size)
        self.digest.update(data)
        return data


def _app_version() -> str:
    from learning.ops.health import app_version

    return app_version()


def take_backup(out: Path) -> dict[str, Any]:
    instance = Path(current_app.instance_path)
    for attempt in range(1, ATTEMPTS + 1):
        staging = Path(tempfile.mkdtemp(prefix="backup-", dir=_work_dir()))
        try:
            snap = _snapshot(staging)
            try:
                return _write_archive(out, snap, _instance_files(instance, snap.media_dirs))
            except _Vanished as gone:
                if attempt == ATTEMPTS:
                    raise BackupError(f"files kept changing during the backup ({gone}); try again") from gone
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    raise AssertionError("unreachable")


def _work_dir() -> Path:
    from learning.catalog.storage import work_dir

    return work_dir()


# --- restoring -------------------------------------------------------------------------------

def _safe_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = []
    for member in tar.getmembers():
        name = PurePosixPath(member.name)
        if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
            raise BackupError(f"not a Hongfan backup: unexpected entry {member.name!r}")
        if name.parts[0] not in ("manifest.json", "database", "instance"):
            raise BackupError(f"not a Hongfan backup: unexpected entry {member.name!r}")
        members.append(member)
    return members


def _read_archive(archive: Path, staging: Path) -> dict[str, Any]:
    try:
        with tarfile.open(archive, _tar_mode(archive, writing=False)) as tar:
            members = _safe_members(tar)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(staging, members=members, filter="data")  # noqa: S202 -- members checked by _safe_members, data filter
            else:  # Python < 3.11.4: the members were checked above
                tar.extractall(staging, members=members)  # noqa: S202 -- members checked by _safe_members above
    except (tarfile.TarError, EOFError, OSError) as error:
        raise BackupError(f"cannot read {archive}: {error}") from error
    manifest_path = staging / "manifest.json"
    if not manifest_path.is_file():
        raise BackupError(f"{archive} has no manifest.json: not a Hongfan backup, or cut short")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{archive}: unsupported backup format {manifest.get('format')!r} "
                          f"version {manifest.get('format_version')!r}")
    for name, expected in manifest["files"].items():
        path = staging / name
        if not path.is_file() or _sha256(path) != expected:
            raise BackupError(f"{archive}: {name} is missing or damaged (checksum mismatch)")
    return manifest


def _verify_sqlite_copy(path: Path, manifest: dict[str, Any]) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        check = conn.execute("PRAGMA integrity_check").fetchall()
        if check != [("ok",)]:
            raise BackupError(f"the database in the backup failed its integrity check: {check[:5]}")
        if conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
            raise BackupError("the database in the backup has rows pointing at missing rows")
        if _sqlite_counts(conn) != manifest["tables"]:
            raise BackupError("the database in the backup does not hold the rows its manifest lists")
    finally:
        conn.close()


def _has_data(instance: Path) -> list[str]:
    """What a restore would replace."""
    found = []
    if db.engine.dialect.name == "sqlite":
        path = _sqlite_path(current_app.config["SQLALCHEMY_DATABASE_URI"])
        if path.is_file() and path.stat().st_size > 0:
            found.append(str(path))
    else:
        with db.engine.connect() as conn:
            if inspect(conn).get_table_names():
                found.append(f"the tables of database {db.engine.url.database}")
    for name in ("courses", *FOLDERS):
        folder = instance / name
        if folder.is_dir() and any(folder.iterdir()):
            found.append(str(folder))
    return found


def _move_aside(paths: list[Path], aside: Path) -> None:
    for path in paths:
        if path.exists():
            aside.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), str(aside / path.name))


def restore_backup(archive: Path, force: bool) -> dict[str, Any]:
    instance = Path(current_app.instance_path)
    dialect = db.engine.dialect.name
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=instance))  # same filesystem: moves are renames
    try:
        manifest = _read_archive(archive, staging)
        if manifest["dialect"] != dialect:
            raise BackupError(f"the backup is of a {manifest['dialect']} database and this instance uses "
                              f"{dialect}: restore it into a {manifest['dialect']} instance")
        if dialect == "sqlite":
            _verify_sqlite_copy(staging / SQLITE_NAME, manifest)
        else:
            _run([_pg_tool("pg_restore"), "--list", str(staging / PGDUMP_NAME)], dict(os.environ))
        existing = _has_data(instance)
        if existing and not force:
            raise BackupError("refusing to overwrite existing data (" + "; ".join(existing) + "); "
                              "stop the app servers and run again with --force (what is replaced is moved "
                              "to instance/pre-restore-<time>/)")
        aside = instance / f"pre-restore-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"
        db.session.remove()
        db.engine.dispose()
        if dialect == "sqlite":
            target = _sqlite_path(current_app.config["SQLALCHEMY_DATABASE_URI"])
            _move_aside([target, target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")],
                        aside)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(staging / SQLITE_NAME), str(target))
        else:
            _restore_postgresql(staging / PGDUMP_NAME, manifest)
        _put_files_in_place(staging / "instance", instance, aside)
        return manifest
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _restore_postgresql(dump: Path, manifest: dict[str, Any]) -> None:
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    # The tables are replaced in one transaction: an error leaves the database as it was.
    _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
          "--exit-on-error", f"--dbname={make_url(url).database}", str(dump)], _pg_environment(url))
    with db.engine.connect() as conn:
        known = set(inspect(conn).get_table_names())
        if not set(manifest["tables"]) <= known:
            raise BackupError("the backup lists tables this database does not have: "
                              + ", ".join(sorted(set(manifest["tables"]) - known)))
        counts = {n: conn.execute(text(f"SELECT count(*) FROM {quoted(n)}")).scalar_one()  # noqa: S608 -- existing table, quoted
                  for n in manifest["tables"]}
    if counts != manifest["tables"]:
        raise BackupError("the restored database does not hold the rows the backup lists: "
                          f"{ {n: (manifest['tables'][n], c) for n, c in counts.items() if c != manifest['tables'][n]} }")


def _put_files_in_place(staged: Path, instance: Path, aside: Path) -> None:
    for name in ("courses", *FOLDERS, "secret_key"):
        current, restored = instance / name, staged / name
        _move_aside([current], aside)
        if restored.exists():
            shutil.move(str(restored), str(current))
    settings = staged / "hongfan.toml"
    if settings.is_file():
        # The settings of the machine restored onto win; the archived ones are kept beside them.
        target = instance / "hongfan.toml"
        shutil.move(str(settings), str(target if not target.exists() else instance / "hongfan.toml.from-backup"))


def _head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(current_app.extensions["migrate"].directory).get_current_head()


# --- commands --------------------------------------------------------------------------------

@click.command("backup")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace OUT when it exists.")
@with_appcontext
def backup_command(out: Path, force: bool) -> None:
    """Write the database and the instance's files (courses, drafts, models, secret key) to OUT
    (.tar, or .tar.gz / .tgz compressed), while the academy runs."""
    if out.exists() and not force:
        raise BackupError(f"{out} exists; choose another name or pass --force")
    manifest = take_backup(out)
    rows = sum(manifest["tables"].values())
    click.echo(f"wrote {out}: {manifest['dialect']} database, {len(manifest['tables'])} tables, {rows} rows, "
               f"{len(manifest['files']) - 1} instance files, {manifest['bytes'] / 1e6:.1f} MB")


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the existing database and files (moved aside, not deleted).")
@with_appcontext
def restore_command(archive: Path, force: bool) -> None:
    """Restore a `hongfan backup` archive into this instance. Stop the app servers first."""
    manifest = restore_backup(archive, force)
    click.echo(f"restored {archive} (taken {manifest['created_at']}, version {manifest['app_version']}): "
               f"{sum(manifest['tables'].values())} rows, {len(manifest['files']) - 1} instance files")
    head = _head_revision()
    if manifest.get("alembic_revision") and manifest["alembic_revision"] != head:
        click.echo(f"the backup's schema is {manifest['alembic_revision']}, this version's is {head}: "
                   "run `hongfan db upgrade` before starting the app", err=True)

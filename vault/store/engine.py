"""Engine construction with the pragmas every connection needs, migrate(), and the owner's
words for what SQLite and the file system say when they fail."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vault.errors import NotAVault, StorageFailed, StorageFull, VaultBusy, VaultDamaged, VaultError, VaultReadOnly
from vault.i18n import _

if TYPE_CHECKING:
    from sqlalchemy import Engine

BUSY_TIMEOUT_MS = 5000

# secure_delete overwrites freed pages (Debian builds leave it off by default);
# WAL + synchronous=FULL survive power loss with every acknowledged commit.
PRAGMAS = (
    "PRAGMA secure_delete=ON",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys=ON",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA journal_size_limit=0",
)


def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, emit BEGIN (the documented SQLite recipe),
    # so writers can start with BEGIN IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _on_begin(connection: Any) -> None:
    # Every transaction takes the write lock up front: a reader that later
    # writes cannot deadlock into SQLITE_BUSY half-way through.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(path: Path) -> Engine:
    """An engine on the SQLite file ``path``; nothing is created here."""
    from sqlalchemy import create_engine, event  # here: translate() and PRAGMAS serve vault.lookup without it

    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


def migrations_dir() -> Path:
    """Alembic's script location: inside the installed package, or the repo's top level."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "migrations", package.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("sealbook's migrations are missing from this installation")


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision``; the schema is made only by migrations."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def check_revision(engine: Engine) -> None:
    """Refuse a schema version this sealbook has no migration for: from a newer sealbook
    (NotAVault: "unsupported version"), else damaged (VaultDamaged)."""
    from alembic.script import ScriptDirectory

    current = current_revision(engine)
    if current is None:
        raise VaultDamaged(_("the schema version"))
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config(engine)).walk_revisions()}
    if current in known:
        return
    if current.isdigit() and len(current) == 4:
        raise NotAVault(_("made by a newer sealbook"))
    raise VaultDamaged(_("the schema version"))


# --- failures in the owner's words ---------------------------------------------------------

# Below this much free space an I/O error is the disk running full: SQLite cannot even size
# its 32 KiB shared-memory index then, and says "disk I/O error" (SQLITE_IOERR_SHMSIZE).
LOW_SPACE_BYTES = 1 << 20


# What SQLite says when a flipped bit changed a stored text or the schema (fault suite).
DAMAGE_SIGNS = ("could not decode to utf-8", "no such table", "no such column")


def translate(exc: Exception, path: Path | None = None) -> Exception:
    """Map low-level database failures to the owner's words.

    With the vault's ``path``, an error SQLite words vaguely ("disk I/O error",
    "unable to open database file": it cannot create the -wal/-shm files or size
    them) is told apart by looking at the file system: read-only, or full.
    """
    message = str(getattr(exc, "orig", exc)).lower()
    if "database or disk is full" in message:
        return StorageFull()
    if "readonly" in message or "read-only" in message:
        return VaultReadOnly()
    if "locked" in message or "busy" in message:
        return VaultBusy()
    if "not a database" in message:
        return NotAVault()
    if "malformed" in message or any(sign in message for sign in DAMAGE_SIGNS):
        return VaultDamaged(_("the database file"))
    if path is not None and ("disk i/o error" in message or "unable to open database file" in message):
        return storage_cause(path)
    return exc


def storage_cause(path: Path) -> VaultError:
    """Why the vault file at ``path`` cannot be opened or written: its file, folder or
    disk is read-only, the disk is (nearly) full, or else an input/output error."""
    folder = path.parent
    try:
        disk = os.statvfs(folder)
    except OSError:
        return StorageFailed()
    writable = os.access(folder, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))
    if disk.f_flag & os.ST_RDONLY or not writable:
        return VaultReadOnly()
    if disk.f_bavail * disk.f_frsize < LOW_SPACE_BYTES:
        return StorageFull()
    return StorageFailed()


def translate_os_error(exc: OSError) -> Exception:
    """A file-system error beside the vault (temp files of the sync) in the owner's words."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFull()
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return VaultReadOnly()
    if exc.errno == errno.EIO:
        return StorageFailed()
    return exc

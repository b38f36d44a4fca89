"""What the sync jobs work on, and where they sync to.

:class:`SyncParts` is the narrow view of one open vault that push, pull,
status and clone receive from the facade; the rest of this module reads and
writes the per-device sync target (URL, user, where the password is kept) and
opens a backend for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from vault.audit import AuditLog
from vault.book import RecordBook
from vault.clock import Clock
from vault.keyring import KeyRing
from vault.store.repository import Store
from vault.sync.remote import Remote
from vault.sync.settings import Secrets, SettingsFile, SyncSettings, normalise_url
from vault.sync.state import StateFile


@dataclass(frozen=True)
class SyncParts:
    """What push, pull and status work on: the parts of one open vault."""

    path: Path
    store: Store
    ring: KeyRing
    book: RecordBook
    audit: AuditLog
    clock: Clock


def silent(_stage: str, _done: int, _total: int) -> None:
    return None


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


# --- configuration ------------------------------------------------------------------


def state_file(vault: SyncParts) -> StateFile:
    return StateFile(vault.ring.vault_id.hex(), vault.ring.device_id)


def settings_file(vault: SyncParts) -> SettingsFile:
    return SettingsFile(vault.ring.vault_id.hex(), vault.ring.device_id)


def configure(
    vault: SyncParts,
    url: str,
    *,
    user: str = "",
    password: str | None = None,
    known_hosts: str = "",
    identity: str = "",
) -> SyncSettings:
    """Save the target for this vault; the password goes to the keyring or a 0600 file."""
    settings = SyncSettings(url=normalise_url(url, user), user=user, known_hosts=known_hosts, identity=identity)
    where = "none"
    if password:
        where = Secrets().store(settings.secret_key, password)
    settings = SyncSettings(settings.url, user, known_hosts, identity, where)
    settings_file(vault).save(settings)
    return settings


def is_configured(vault: SyncParts) -> bool:
    return settings_file(vault).exists()


def open_remote(settings: SyncSettings, password: str | None = None) -> Remote:
    """A backend for the settings; the password comes from the keyring/file unless given."""
    if password is None:
        password = Secrets().load(settings.secret_key, settings.secret_store)
    kind = settings.kind
    if kind == "webdav":
        from vault.sync.webdav import WebDav

        return WebDav(settings.url, settings.user, password)
    if kind == "sftp":
        from vault.sync.sftp import open_sftp

        return open_sftp(settings.url, settings.user, password, settings.identity or None, settings.known_hosts or None)
    from vault.sync.local import LocalFolder

    return LocalFolder(Path(settings.url))


@contextmanager
def remote_for(
    url: str | None, remote: object, user: str, password: str | None, known_hosts: str, identity: str
) -> Iterator[Remote]:
    """``remote`` when given (the caller closes it), else a backend for ``url``, closed afterwards."""
    if remote is not None:
        yield remote  # type: ignore[misc]
        return
    if url is None:
        raise ValueError("a url or a remote is needed")
    settings = SyncSettings(url=normalise_url(url, user), user=user, known_hosts=known_hosts, identity=identity)
    opened = open_remote(settings, password)
    try:
        yield opened
    finally:
        opened.close()


def configured_remote(vault: SyncParts) -> Remote:
    return open_remote(settings_file(vault).load())

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
from vault.sync.errors import PushKeyMissing
from vault.sync.remote import Remote
from vault.sync.settings import Secrets, SettingsFile, SyncSettings, normalise_url
from vault.sync.state import PushKeyFile, StateFile


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
    """Check the target, then save it for this vault; the password goes to the keyring or a 0600 file.

    The check connects at once: a missing folder, an unreachable server, refused
    credentials or an unknown host key are refused here (nothing is saved), not
    at the first push."""
    settings = SyncSettings(url=normalise_url(url, user), user=user, known_hosts=known_hosts, identity=identity)
    remote = open_remote(settings, password or None, quick=True)  # secret_store "none": nothing is loaded
    try:
        remote.check()
    finally:
        remote.close()
    where = "none"
    if password:
        where = Secrets().store(settings.secret_key, password)
    settings = SyncSettings(settings.url, user, known_hosts, identity, where)
    settings_file(vault).save(settings)
    return settings


def is_configured(vault: SyncParts) -> bool:
    return settings_file(vault).exists()


def open_remote(settings: SyncSettings, password: str | None = None, *, quick: bool = False) -> Remote:
    """A backend for the settings; the password comes from the keyring/file unless given.

    ``quick``: one retry instead of the push's patient back-off (for setup's check)."""
    if password is None:
        password = Secrets().load(settings.secret_key, settings.secret_store)
    kind = settings.kind
    if kind == "webdav":
        from vault.sync.webdav import DEFAULT_BACKOFF, WebDav

        return WebDav(settings.url, settings.user, password, backoff=DEFAULT_BACKOFF[:1] if quick else DEFAULT_BACKOFF)
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


def push_key(vault: SyncParts) -> bytes | bytearray:
    """The key that authenticates a push: from the unlocked key ring, else from this
    device's state folder (kept there at unlock for the unattended purge)."""
    if not vault.ring.is_locked:
        return vault.ring.keys.push
    key = PushKeyFile(vault.ring.vault_id.hex(), vault.ring.device_id).load()
    if key is None:
        raise PushKeyMissing()
    return key


def keep_push_key(vault: SyncParts) -> None:
    """Keep the push key in this device's state folder (0600): a push without the
    passphrase (the unattended purge) authenticates its blob with it."""
    PushKeyFile(vault.ring.vault_id.hex(), vault.ring.device_id).save(vault.ring.keys.push)

"""Push, pull, clone and status: the sync half of the Vault facade.

The facade hands every function a :class:`SyncParts` (the store, the key
ring, the record book, the audit log, the clock); this module never imports
the facade.

Order of checks on pull: header (magic, version, vault id, keys) -> stream
authentication -> rollback/fork against this device's high-water mark -> per
record authentication in the merge.  Nothing local changes before all of it
passed; the merge is applied in one transaction.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from vault import crypto
from vault.audit import AuditLog
from vault.book import RecordBook
from vault.clock import Clock, local_today
from vault.errors import VaultDamaged, VaultExists
from vault.keyring import KeyRing, unwrap_purpose_key, unwrap_root
from vault.lockfile import exclusive, lock_path_for
from vault.model import Contact
from vault.records import FORMAT_VERSION
from vault.store.models import ContactRow, TombstoneRow, VaultMetaRow
from vault.store.repository import Store
from vault.sync.blob import BlobInfo, blob_hash, open_blob, read_header, seal_snapshot
from vault.sync.errors import (
    BlobDamaged,
    ForeignBlob,
    ForkRefused,
    NoRemoteCopy,
    RemoteChanged,
    RemoteNewer,
    RollbackRefused,
)
from vault.sync.merge import MergeContext, MergePlan, plan_merge
from vault.sync.remote import Fetched, Remote
from vault.sync.report import Progress, SyncReport, SyncStatus
from vault.sync.settings import Secrets, SettingsFile, SyncSettings, normalise_url
from vault.sync.snapshot import RemoteRow, RemoteTombstone, private_tempdir, read_snapshot, vacuum_into
from vault.sync.state import StateFile, SyncState

MAX_PUSH_ATTEMPTS = 3
EDIT_ACTIONS = frozenset({"created", "updated", "restricted", "unrestricted", "held", "released", "imported"})


@dataclass(frozen=True)
class SyncParts:
    """What push, pull and status work on: the parts of one open vault."""

    path: Path
    store: Store
    ring: KeyRing
    book: RecordBook
    audit: AuditLog
    clock: Clock


def _silent(_stage: str, _done: int, _total: int) -> None:
    return None


def _iso(moment: datetime) -> str:
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


def _configured_remote(vault: SyncParts) -> Remote:
    return open_remote(settings_file(vault).load())


# --- high-water mark ------------------------------------------------------------------


def _effective_state(vault: SyncParts, file: StateFile) -> SyncState:
    """The state file, unless the vault's own copy of the mark is higher."""
    state = file.load()
    meta = vault.store.read_meta()
    if meta.sync_counter > state.counter:
        return SyncState(counter=meta.sync_counter, blob_hash=(meta.sync_hash or b"").hex())
    return state


def _record_in_vault(vault: SyncParts, counter: int, digest: str, detail: str) -> None:
    with vault.store.session() as s:
        row = s.get(VaultMetaRow, 1)
        assert row is not None
        row.sync_counter, row.sync_hash = counter, bytes.fromhex(digest)
        vault.audit.add(s, "synced", None, detail[:64])
    vault.ring.reload()


# --- pull ---------------------------------------------------------------------------------


def _check_chain(state: SyncState, info: BlobInfo, digest: str) -> bool:
    """True if the blob is new; False if it is the one we already hold.  Refuses rollback and fork."""
    if info.counter < state.counter:
        raise RollbackRefused(f"remote version {info.counter}, this device saw {state.counter}")
    if info.counter == state.counter:
        if digest != state.blob_hash:
            raise ForkRefused(f"version {info.counter}")
        return False
    return True


def _locally_changed(vault: SyncParts, since: str | None) -> frozenset[str]:
    if since is None:
        return frozenset()
    return frozenset(vault.audit.touched_since(datetime.fromisoformat(since), only=EDIT_ACTIONS, own=True))


def _authenticator(vault: SyncParts) -> tuple[object, object]:
    def authenticate(row: RemoteRow) -> Contact | None:
        try:
            return vault.book.sealer.open(row)
        except VaultDamaged:
            return None

    def local_contact(record_id: str) -> Contact | None:
        return vault.book.local(record_id)

    return authenticate, local_contact


def _pull_fetched(
    vault: SyncParts, file: StateFile, state: SyncState, fetched: Fetched, describe: str, progress: Progress
) -> SyncReport:
    keys = vault.ring.keys
    meta = vault.store.read_meta()
    data = fetched.data
    header, _ = read_header(data)
    if (header.vault_id, header.sync_public_key, header.verify_key) != (
        meta.vault_id,
        meta.sync_public_key,
        meta.verify_key,
    ):
        raise ForeignBlob(describe)
    digest = blob_hash(data).hex()
    with private_tempdir(vault.path) as tmp:
        _header, info = open_blob(data, keys.sync_secret, tmp / "pulled.db", progress=progress)
        if not _check_chain(state, info, digest):
            file.save(state.advanced(tag=fetched.tag))
            return SyncReport("up-to-date", describe, state.counter, len(data))
        remote = read_snapshot(tmp / "pulled.db")
    if remote.meta.vault_id != meta.vault_id:
        raise BlobDamaged("remote copy")
    progress("merge", 0, len(remote.rows))
    authenticate, local_contact = _authenticator(vault)
    local_rows = {row.id: row for row in vault.store.contact_rows()}
    local_tombs = {
        t.id: RemoteTombstone(t.id, t.deleted_at, t.reason, t.retention_end, t.signature)
        for t in vault.store.tombstone_rows()
    }
    ctx = MergeContext(
        vault_id=meta.vault_id,
        verify_key=meta.verify_key,
        today=local_today(vault.clock),
        local_device=meta.device_id,
        remote_device=info.device,
        authenticate=authenticate,  # type: ignore[arg-type]
        local_contact=local_contact,  # type: ignore[arg-type]
        locally_changed=_locally_changed(vault, state.last_sync),
    )
    plan = plan_merge(ctx, remote.rows, remote.tombstones, local_rows, local_tombs)  # type: ignore[arg-type]
    _apply(vault, plan, info, digest)
    progress("merge", len(remote.rows), len(remote.rows))
    now = _iso(vault.clock())
    file.save(
        state.advanced(
            counter=info.counter, blob_hash=digest, tag=fetched.tag, last_pull=now, last_sync=now, blob_bytes=len(data)
        )
    )
    return SyncReport(
        "pulled",
        describe,
        info.counter,
        len(data),
        plan.added,
        plan.updated,
        len(plan.deletes),
        tuple(sorted(set(plan.rejected))),
        tuple(sorted(set(plan.conflicts))),
    )


def _apply(vault: SyncParts, plan: MergePlan, info: BlobInfo, digest: str) -> None:
    with vault.store.session() as s:
        for row in plan.upserts:
            existing = s.get(ContactRow, row.id)
            if existing is None:
                s.add(
                    ContactRow(
                        id=row.id,
                        retention_end=row.retention_end,
                        review_at=row.review_at,
                        hold=row.hold,
                        meta_version=row.meta_version,
                        meta_sig=row.meta_sig,
                        sealed=row.sealed,
                    )
                )
            else:
                existing.retention_end, existing.review_at, existing.hold = row.retention_end, row.review_at, row.hold
                existing.meta_version, existing.meta_sig, existing.sealed = row.meta_version, row.meta_sig, row.sealed
        for record_id in plan.deletes:
            existing = s.get(ContactRow, record_id)
            if existing is not None:
                s.delete(existing)
                vault.audit.add(s, "sync-deleted", record_id)
        for tomb in plan.new_tombstones:
            s.merge(
                TombstoneRow(
                    id=tomb.id,
                    deleted_at=tomb.deleted_at,
                    reason=tomb.reason,
                    retention_end=tomb.retention_end,
                    signature=tomb.signature,
                )
            )
        for record_id in plan.dropped_tombstones:
            stale = s.get(TombstoneRow, record_id)
            if stale is not None:
                s.delete(stale)
        meta = s.get(VaultMetaRow, 1)
        assert meta is not None
        meta.sync_counter, meta.sync_hash = info.counter, bytes.fromhex(digest)
        vault.audit.add(
            s, "synced", None, f"pull {info.counter} +{plan.added} ~{plan.updated} -{len(plan.deletes)}"[:64]
        )
    vault.ring.reload()
    for record_id in plan.deletes:
        vault.book.forget(record_id)
    vault.book.absorb(plan.upserts)
    if plan.deletes:
        vault.store.scrub()  # deleted means gone: no remnants in the file or the WAL


def pull(vault: SyncParts, remote: Remote | None = None, *, progress: Progress | None = None) -> SyncReport:
    """Fetch the remote blob and merge it (needs the unlocked vault).

    Holds the vault's lock file (vault.lockfile) so a purge never interleaves.
    """
    with exclusive(lock_path_for(vault.path)):
        return _pull(vault, remote, progress=progress)


def _pull(vault: SyncParts, remote: Remote | None = None, *, progress: Progress | None = None) -> SyncReport:
    vault.book.refresh()  # pick up commits of other processes before comparing
    progress = progress or _silent
    own = remote is None
    remote = remote or _configured_remote(vault)
    try:
        file = state_file(vault)
        state = _effective_state(vault, file)
        if state.tag is not None and remote.version() == state.tag:
            return SyncReport("up-to-date", remote.describe(), state.counter, state.blob_bytes)
        fetched = remote.fetch(progress)
        if fetched is None:
            raise NoRemoteCopy(remote.describe())
        return _pull_fetched(vault, file, state, fetched, remote.describe(), progress)
    finally:
        if own:
            remote.close()


# --- push ---------------------------------------------------------------------------------


def build_blob(vault: SyncParts, counter: int, previous: bytes, progress: Progress) -> bytes:
    """Snapshot (VACUUM INTO) and seal: needs only public key material."""
    meta = vault.store.read_meta()
    with private_tempdir(vault.path) as tmp:
        snapshot = tmp / "snapshot.db"
        progress("snapshot", 0, 1)
        vacuum_into(vault.store.engine, snapshot)
        progress("snapshot", 1, 1)
        info = BlobInfo(counter, meta.device_id, previous, _iso(vault.clock()), snapshot.stat().st_size)
        return seal_snapshot(meta, snapshot, info, progress=progress)


def push(
    vault: SyncParts,
    remote: Remote | None = None,
    *,
    progress: Progress | None = None,
    max_attempts: int = MAX_PUSH_ATTEMPTS,
) -> SyncReport:
    """Upload a new blob.  Works on a locked vault (the unattended purge) as long
    as the remote holds nothing this device has not seen; otherwise an unlocked
    vault pulls and merges first, a locked one raises RemoteNewer.

    Holds the vault's lock file so a purge never interleaves."""
    with exclusive(lock_path_for(vault.path)):
        return _push(vault, remote, progress=progress, max_attempts=max_attempts)


def _push(
    vault: SyncParts,
    remote: Remote | None = None,
    *,
    progress: Progress | None = None,
    max_attempts: int = MAX_PUSH_ATTEMPTS,
) -> SyncReport:
    progress = progress or _silent
    own = remote is None
    remote = remote or _configured_remote(vault)
    pulled: SyncReport | None = None
    try:
        file = state_file(vault)
        for _attempt in range(max_attempts):
            state = _effective_state(vault, file)
            tag = remote.version()
            if tag is not None and tag != state.tag:
                if vault.ring.is_locked:
                    raise RemoteNewer(remote.describe())
                fetched = remote.fetch(progress)
                if fetched is not None:
                    pulled = _pull_fetched(vault, file, state, fetched, remote.describe(), progress)
                    state = file.load()
                    tag = fetched.tag
                else:
                    tag = None
            counter = state.counter + 1
            previous = bytes.fromhex(state.blob_hash) if state.blob_hash else bytes(32)
            blob = build_blob(vault, counter, previous, progress)
            try:
                new_tag = remote.put(blob, tag, progress)
            except RemoteChanged:
                continue  # someone pushed meanwhile: pull, merge and try again (bounded)
            digest = blob_hash(blob).hex()
            now = _iso(vault.clock())
            file.save(
                state.advanced(
                    counter=counter, blob_hash=digest, tag=new_tag, last_push=now, last_sync=now, blob_bytes=len(blob)
                )
            )
            _record_in_vault(vault, counter, digest, f"push {counter}")
            return SyncReport(
                "pushed",
                remote.describe(),
                counter,
                len(blob),
                *(
                    (pulled.added, pulled.updated, pulled.deleted, pulled.rejected, pulled.conflicts)
                    if pulled
                    else (0, 0, 0, (), ())
                ),
                pulled_first=pulled is not None and pulled.action == "pulled",
            )
        raise RemoteChanged(remote.describe())
    finally:
        if own:
            remote.close()


def push_if_configured(vault: SyncParts, *, progress: Progress | None = None) -> SyncReport | None:
    """For the unattended purge: push when sync is set up, else do nothing.

    The caller (vault.purge.after_purge) already holds the vault's lock file;
    flock is per open file, so taking it again here would deadlock.
    """
    if not is_configured(vault):
        return None
    return _push(vault, progress=progress)


# --- status ---------------------------------------------------------------------------------


def status(vault: SyncParts, *, check_remote: bool = False) -> SyncStatus:
    file = state_file(vault)
    state = _effective_state(vault, file)
    settings = settings_file(vault)
    configured = settings.exists()
    target = settings.load().describe() if configured else None
    if state.last_sync:
        since = datetime.fromisoformat(state.last_sync)
        pending = len(vault.audit.touched_since(since, excluding=frozenset({"synced", "sync-deleted"})))
    else:
        pending = vault.store.count_contacts()
    remote_changed: bool | None = None
    if check_remote and configured:
        remote = _configured_remote(vault)
        try:
            remote_changed = remote.version() != state.tag
        finally:
            remote.close()
    return SyncStatus(
        configured, target, state.counter, state.last_push, state.last_pull, pending, state.blob_bytes, remote_changed
    )


# --- clone ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cloned:
    """What :func:`clone` wrote: the blob's counter and hash, the remote's tag, the blob's size."""

    counter: int
    blob_hash: str
    tag: str | None
    blob_bytes: int


def clone(remote: Remote, path: Path, passphrase: str, *, progress: Progress | None = None) -> Cloned:
    """Write a new vault file at ``path`` from the remote blob and the passphrase.

    The caller opens and unlocks it, then calls :func:`after_clone`.
    """
    progress = progress or _silent
    path = Path(path)
    if path.exists():
        raise VaultExists(str(path))
    fetched = remote.fetch(progress)
    if fetched is None:
        raise NoRemoteCopy(remote.describe())
    data = fetched.data
    header, _ = read_header(data)
    fields = SimpleNamespace(
        format_version=FORMAT_VERSION,
        **{
            name: getattr(header, name)
            for name in ("vault_id", "kdf_t", "kdf_m_kib", "kdf_p", "kdf_salt", "sync_public_key", "verify_key")
        },
    )
    root = unwrap_root(fields, header.wrapped_root_key, passphrase)  # caps the KDF before deriving
    try:
        sync_secret = unwrap_purpose_key(root, header.vault_id, "sync", header.wrapped_sync_secret_key)
    except crypto.SealBroken:
        raise BlobDamaged("remote copy header") from None
    finally:
        crypto.wipe(root)
    digest = blob_hash(data).hex()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        with private_tempdir(path) as tmp:
            snapshot = tmp / "clone.db"
            _header, info = open_blob(data, sync_secret, snapshot, progress=progress)
            remote_data = read_snapshot(snapshot)
            m = remote_data.meta
            if (
                m.format_version,
                m.vault_id,
                m.kdf_t,
                m.kdf_m_kib,
                m.kdf_p,
                m.kdf_salt,
                m.wrapped_root_key,
                m.sync_public_key,
                m.wrapped_sync_secret_key,
                m.verify_key,
            ) != (
                FORMAT_VERSION,
                header.vault_id,
                header.kdf_t,
                header.kdf_m_kib,
                header.kdf_p,
                header.kdf_salt,
                header.wrapped_root_key,
                header.sync_public_key,
                header.wrapped_sync_secret_key,
                header.verify_key,
            ):
                raise BlobDamaged("remote copy")
            device = secrets.token_hex(8)
            conn = sqlite3.connect(snapshot)
            try:
                conn.execute(
                    "UPDATE vault_meta SET device_id = ?, sync_counter = ?, sync_hash = ? WHERE id = 1",
                    (device, info.counter, bytes.fromhex(digest)),
                )
                conn.commit()
            finally:
                conn.close()
            try:
                os.link(snapshot, path)  # never overwrites: fails if the path appeared meanwhile
            except FileExistsError:
                raise VaultExists(str(path)) from None
    finally:
        crypto.wipe(sync_secret)
    return Cloned(info.counter, digest, fetched.tag, len(data))


def after_clone(vault: SyncParts, cloned: Cloned, remote: Remote) -> SyncReport:
    """Record the clone in the new vault's state and audit log."""
    now = _iso(vault.clock())
    state_file(vault).save(
        SyncState(
            counter=cloned.counter,
            blob_hash=cloned.blob_hash,
            tag=cloned.tag,
            last_pull=now,
            last_sync=now,
            blob_bytes=cloned.blob_bytes,
        )
    )
    with vault.store.session() as s:
        vault.audit.add(s, "cloned", None, f"from version {cloned.counter}")
    return SyncReport(
        "cloned",
        remote.describe(),
        cloned.counter,
        cloned.blob_bytes,
        added=len(vault.book),
        rejected=vault.book.damaged_ids,
    )

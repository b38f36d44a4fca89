"""Push, pull, clone and status: the sync half of the Vault facade.

The facade hands every function a :class:`SyncParts` (the store, the key
ring, the record book, the audit log, the clock); this module never imports
the facade.

Order of checks on pull: header (magic, version, vault id, keys) -> stream
authentication -> rollback/fork against this device's high-water mark -> per
record authentication in the merge.  Nothing local changes before all of it
passed; the merge is applied in one transaction.

A lower counter than this device saw is a rollback: refused.  The same counter
with another hash is a fork: two devices both wrote that version (a server
that ignores If-Match lets them).  If the other blob authenticates (its
stream under this vault's keys and every record and tombstone in it) it is an
honest fork: it is merged like any pull (the rules are per record and
idempotent) and the next push writes max + 1; if anything in it fails to
authenticate the fork is refused and nothing changes.

A push first takes the snapshot and compares its content digest
(vault.sync.content) with what the remote held when this device last saw it;
when they match and the remote has not moved, nothing is uploaded.  When
records were deleted (purge, erase) or the key header changed since, the push
asks the backend to remove every older copy it can see (``forget``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import insert, update

from vault.i18n import N_, _
from vault.lockfile import exclusive, lock_path_for
from vault.store.models import ContactRow, SuppressionRow, TombstoneRow, VaultMetaRow
from vault.sync.blob import BlobInfo, blob_hash, open_blob, read_header, seal_snapshot
from vault.sync.carry import carry_into
from vault.sync.content import Digests, Held, RemoteContent, content_digests, live_digests
from vault.sync.context import local_tombstones, merge_context
from vault.sync.errors import (
    BlobDamaged,
    ForeignBlob,
    ForkRefused,
    NoRemoteCopy,
    RemoteChanged,
    RemoteNewer,
    RollbackRefused,
)
from vault.sync.merge import MergePlan, plan_merge
from vault.sync.parts import (
    SyncParts,
    configured_remote,
    is_configured,
    iso,
    push_key,
    settings_file,
    silent,
    state_file,
)
from vault.sync.remote import EMPTY_TAG, Fetched, Remote
from vault.sync.report import Progress, SyncReport, SyncStatus
from vault.sync.snapshot import private_tempdir, read_snapshot, vacuum_into
from vault.sync.state import StateFile, SyncState

MAX_PUSH_ATTEMPTS = 3
# Sentences for the owner (SyncReport.notes), marked for the catalogue and translated when
# the report is made (vault.i18n).
FORK_NOTE = N_("Another device wrote the same version at the same time; both were merged.")
FORK_PUSH_NOTE = N_("Push to share the merged result.")
HISTORY_NOTE = N_(
    "Older copies on the sync target were removed; the server or a sync client may still keep "
    "old versions or deleted files (Nextcloud: versions and trash bin) until they expire or are emptied."
)


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


def _check_chain(state: SyncState, info: BlobInfo, digest: str) -> str:
    """ "new", "same" (the blob we hold) or "fork" (same counter, other content).  Refuses rollback."""
    if info.counter < state.counter:
        raise RollbackRefused(
            _("remote version {remote}, this device saw {seen}").format(remote=info.counter, seen=state.counter)
        )
    if info.counter == state.counter:
        return "same" if digest == state.blob_hash else "fork"
    return "new"


def _content_file(vault: SyncParts) -> RemoteContent:
    return RemoteContent(vault.ring.vault_id.hex(), vault.ring.device_id)


def _pull_fetched(
    vault: SyncParts, file: StateFile, state: SyncState, fetched: Fetched, describe: str, progress: Progress
) -> SyncReport:
    keys = vault.ring.keys
    meta = vault.store.read_meta()
    data = fetched.data
    header, _rest = read_header(data)
    if (header.vault_id, header.sync_public_key, header.verify_key) != (
        meta.vault_id,
        meta.sync_public_key,
        meta.verify_key,
    ):
        raise ForeignBlob(describe)
    digest = blob_hash(data).hex()
    content = _content_file(vault)
    with private_tempdir(vault.path) as tmp:
        _header, info = open_blob(
            data, keys.sync_secret, tmp / "pulled.db", progress=progress, push_key=keys.push, durable=False
        )
        chain = _check_chain(state, info, digest)
        if chain == "same":
            file.save(state.advanced(tag=fetched.tag))
            held = content.load()
            if held is not None and held.blob_hash == digest:
                content.save(Held(fetched.tag, digest, held.digests))
            return SyncReport("up-to-date", describe, state.counter, len(data))
        # This device's rows as stored: remote rows equal to them are only counted (the merge
        # skips byte-identical rows), so a pull of one change opens and checks one row.
        known = {row[0]: row for row in vault.store.contact_checks()}
        local_tombs = local_tombstones(vault)
        remote = read_snapshot(tmp / "pulled.db", known=known, keep=local_tombs.keys(), digest=True)
        digests = content_digests(tmp / "pulled.db", contacts=remote.contacts_digest)
    if remote.meta.vault_id != meta.vault_id:
        raise BlobDamaged(_("remote copy"))
    progress("merge", 0, remote.total)
    held_ids = [rid for rid, row in known.items() if row[4]]
    wanted = {row.id for row in remote.rows} | {t.id for t in remote.tombstones}
    del known
    local_rows = {row.id: row for row in vault.store.contact_columns(sorted(wanted))} if wanted else {}
    ctx = merge_context(vault, state, info.device, held_ids)
    plan = plan_merge(ctx, remote.rows, remote.tombstones, local_rows, local_tombs)
    forked = chain == "fork"
    if forked and plan.rejected:
        # Not another device of this vault: something in it fails to authenticate.
        raise ForkRefused(_("version {counter}").format(counter=info.counter))
    _apply(vault, plan, info, digest, remote.suppression)
    progress("merge", remote.total, remote.total)
    now = iso(vault.clock())
    file.save(
        state.advanced(
            counter=info.counter, blob_hash=digest, tag=fetched.tag, last_pull=now, last_sync=now, blob_bytes=len(data)
        )
    )
    content.save(Held(fetched.tag, digest, digests))
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
        forked=forked,
        notes=(_(FORK_NOTE), _(FORK_PUSH_NOTE)) if forked else (),
    )


def _apply(
    vault: SyncParts,
    plan: MergePlan,
    info: BlobInfo,
    digest: str,
    remote_suppression: Sequence[tuple[bytes, str, date]] = (),
) -> None:
    with vault.store.session() as s:
        # One bulk statement each for new and changed rows (a first pull can bring thousands).
        existing = vault.store.existing_ids(s, [row.id for row in plan.upserts]) if plan.upserts else set()
        values = [
            {
                "id": row.id,
                "retention_end": row.retention_end,
                "review_at": row.review_at,
                "hold": row.hold,
                "meta_version": row.meta_version,
                "meta_sig": row.meta_sig,
                "sealed": row.sealed,
                "history": row.history,
            }
            for row in plan.upserts
        ]
        added = [v for v in values if v["id"] not in existing]
        changed = [v for v in values if v["id"] in existing]
        if added:
            s.execute(insert(ContactRow), added)
        if changed:
            s.execute(update(ContactRow), changed)  # by primary key
        # The rows and the sealed index buckets that hold copies of them.
        vault.store.delete_contacts(s, plan.deletes)
        for record_id in plan.deletes:
            vault.audit.add(s, "sync-deleted", record_id)
        versions: dict[str, int | None] = {row.id: row.meta_version for row in plan.upserts}
        for tomb in plan.new_tombstones:
            s.merge(
                TombstoneRow(
                    id=tomb.id,
                    deleted_at=tomb.deleted_at,
                    reason=tomb.reason,
                    retention_end=tomb.retention_end,
                    signature=tomb.signature,
                    meta_version=tomb.meta_version,
                    meta_sig=tomb.meta_sig,
                    history=tomb.history,
                )
            )
            versions[tomb.id] = tomb.meta_version
        for record_id in plan.dropped_tombstones:
            stale = s.get(TombstoneRow, record_id)
            if stale is not None:
                s.delete(stale)
        if remote_suppression:  # the other devices' suppression list: a union, never a removal
            s.execute(
                insert(SuppressionRow).prefix_with("OR IGNORE"),
                [{"digest": d, "reason": r, "since": day} for d, r, day in remote_suppression],
            )
        epoch = vault.book.reseal(s, versions)
        meta = s.get(VaultMetaRow, 1)
        assert meta is not None
        meta.sync_counter, meta.sync_hash = info.counter, bytes.fromhex(digest)
        vault.audit.add(
            s, "synced", None, f"pull {info.counter} +{plan.added} ~{plan.updated} -{len(plan.deletes)}"[:64]
        )
    vault.ring.reload()
    vault.book.pin(epoch)
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
    progress = progress or silent
    own = remote is None
    remote = remote or configured_remote(vault)
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


def _take_snapshot(vault: SyncParts, tmp: Path, progress: Progress) -> Path:
    snapshot = tmp / "snapshot.db"
    progress("snapshot", 0, 1)
    vacuum_into(vault.store.engine, snapshot)
    if not vault.ring.is_locked:  # a clone then opens no record (vault.sync.carry); not without the keys
        carry_into(snapshot, vault.ring.keys.index, vault.ring.vault_id, vault.store.index_buckets())
    progress("snapshot", 1, 1)
    return snapshot


def _seal(vault: SyncParts, snapshot: Path, counter: int, previous: bytes, progress: Progress) -> bytes:
    meta = vault.store.read_meta()
    info = BlobInfo(counter, meta.device_id, previous, iso(vault.clock()), snapshot.stat().st_size)
    return seal_snapshot(meta, snapshot, info, progress=progress, push_key=push_key(vault))


def build_blob(vault: SyncParts, counter: int, previous: bytes, progress: Progress) -> bytes:
    """Snapshot (VACUUM INTO) and seal: needs no secret but the push key."""
    with private_tempdir(vault.path) as tmp:
        return _seal(vault, _take_snapshot(vault, tmp, progress), counter, previous, progress)


def _deleted_since(before: Digests, now: Digests) -> bool:
    """Tombstones or the key header changed: older copies hold what is gone or old keys."""
    return before.tombstones != now.tombstones or before.keys != now.keys


def _adopt_cut_off_push(
    vault: SyncParts, file: StateFile, state: SyncState, remote: Remote, progress: Progress
) -> SyncState:
    """A push cut off after its upload and before its bookkeeping (issue 12.6): when the remote
    holds exactly the blob the saved intent names, that push counts as done (state, the vault's
    mark, the `synced` log row), so even a locked push goes on instead of raising RemoteNewer."""
    fetched = remote.fetch(progress)
    if fetched is None or not state.is_own_upload(blob_hash(fetched.data).hex()):
        return state
    adopted = state.pushed(fetched.tag, len(fetched.data))
    file.save(adopted)
    _record_in_vault(vault, adopted.counter, adopted.blob_hash, f"push {adopted.counter}")
    return adopted


def _same(held: Held, digests: Digests | None) -> bool:
    return digests is not None and held.digests.content == digests.content


def _unchanged(held: Held | None, state: SyncState, tag: str | None) -> bool:
    """The remote still holds the blob this device last pushed or pulled, and we know its content."""
    return held is not None and tag is not None and held.tag == tag == state.tag and held.blob_hash == state.blob_hash


def _push_report(
    action: str,
    remote: Remote,
    counter: int,
    size: int,
    pulled: SyncReport | None,
    *,
    removed: int = 0,
    notes: tuple[str, ...] = (),
) -> SyncReport:
    merged = (pulled.added, pulled.updated, pulled.deleted, pulled.rejected, pulled.conflicts) if pulled else None
    forked = pulled is not None and pulled.forked
    return SyncReport(
        action,
        remote.describe(),
        counter,
        size,
        *(merged or (0, 0, 0, (), ())),
        pulled_first=pulled is not None and pulled.action == "pulled",
        forked=forked,
        removed=removed,
        notes=((_(FORK_NOTE),) if forked else ()) + notes,
    )


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
    progress = progress or silent
    own = remote is None
    remote = remote or configured_remote(vault)
    pulled: SyncReport | None = None
    try:
        file = state_file(vault)
        content = _content_file(vault)
        for _attempt in range(max_attempts):
            state = _effective_state(vault, file)
            tag = remote.version()
            if tag == EMPTY_TAG:
                raise BlobDamaged(_("remote copy is empty"))  # never replaced unseen: the owner decides
            if tag is not None and tag != state.tag and state.pushing_hash:
                state = _adopt_cut_off_push(vault, file, state, remote, progress)
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
            counter = state.counter + 1  # after a fork, the counter both devices wrote + 1
            previous = bytes.fromhex(state.blob_hash) if state.blob_hash else bytes(32)
            held = content.load()
            unchanged = _unchanged(held, state, tag)
            if unchanged and held is not None and _same(held, live_digests(vault.store.engine)):
                # Nothing new since the blob the remote holds: no copy, no upload.
                return _push_report("up-to-date", remote, state.counter, state.blob_bytes, pulled)
            with private_tempdir(vault.path) as tmp:
                snapshot = _take_snapshot(vault, tmp, progress)
                digests = content_digests(snapshot)
                if unchanged and held is not None and _same(held, digests):  # a change undone meanwhile
                    return _push_report("up-to-date", remote, state.counter, state.blob_bytes, pulled)
                deleted = held is not None and _deleted_since(held.digests, digests)
                blob = _seal(vault, snapshot, counter, previous, progress)
            digest = blob_hash(blob).hex()
            intent = state.pushing(counter, digest, iso(vault.clock()))
            file.save(intent)  # before the upload: a push cut off after it is recognised next time
            try:
                # Records deleted since (or nothing known): every older copy may hold them.
                new_tag = remote.put(blob, tag, progress, forget=deleted or not unchanged)
            except RemoteChanged:
                continue  # someone pushed meanwhile: pull, merge and try again (bounded)
            file.save(intent.pushed(new_tag, len(blob)))
            content.save(Held(new_tag, digest, digests))
            _record_in_vault(vault, counter, digest, f"push {counter}")
            removed = getattr(remote, "removed", 0)
            notes = (_(HISTORY_NOTE),) if deleted or (held is None and removed) else ()
            return _push_report("pushed", remote, counter, len(blob), pulled, removed=removed, notes=notes)
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
        remote = configured_remote(vault)
        try:
            remote_changed = remote.version() != state.tag
        finally:
            remote.close()
    return SyncStatus(
        configured, target, state.counter, state.last_push, state.last_pull, pending, state.blob_bytes, remote_changed
    )

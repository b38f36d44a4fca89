"""Merging a pulled snapshot into the local vault: a pure plan, applied elsewhere.

Rules (DESIGN.md, Sync blob):

* A remote record counts only if it opens under the record key with the
  record's own additional data and its metadata signature verifies; anything
  else is rejected and reported by id.
* Every version carries its causal history (vault.causal), signed with its
  metadata.  A version that precedes the other side's is replaced by it without
  a word; two concurrent versions (both sides changed the record) are reported
  as a conflict and the one with the higher (hold, meta_version, updated,
  device) is kept on every device: a legal hold placed on one device is never
  dropped for a concurrent edit made elsewhere.  Rows from before histories
  existed fall back to version numbers and the sync timestamps.
* A tombstone carries the deleted row's own signed metadata (version, end,
  hold = 0).  It counts only if that signature verifies and either the
  signing key signed the erasure (erased, withdrawn) or the signed retention
  end has passed (purged, possible without the passphrase).  A verified
  tombstone beats the version it deleted and every version that precedes it,
  never a concurrent or later one (a hold or an edit made on another device
  that had not seen the deletion keeps the record, reported as a conflict).
* A record whose tombstone expired here (vault.book keeps its id and version
  in the signed manifest, nothing else) is not taken back from a device that
  was offline for longer: versions up to the deleted one stay out.
  An unverifiable tombstone deletes nothing and is neither stored nor passed on.
* A blob never deletes a record it merely omits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from vault import causal, crypto
from vault.causal import Order
from vault.model import Contact
from vault.records import meta_message, tombstone_message
from vault.sync.snapshot import RemoteRow, RemoteTombstone


class LocalRowLike:
    """What the plan needs of a local contact row (ContactRow satisfies it)."""

    id: str
    retention_end: date | None
    hold: bool
    meta_version: int
    meta_sig: bytes
    sealed: bytes
    history: bytes


@dataclass
class MergePlan:
    upserts: list[RemoteRow] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    deletes: list[str] = field(default_factory=list)  # local records a remote tombstone removes
    new_tombstones: list[RemoteTombstone] = field(default_factory=list)
    dropped_tombstones: list[str] = field(default_factory=list)  # unverifiable, beaten by an authentic record
    rejected: list[str] = field(default_factory=list)  # remote records/tombstones that did not authenticate
    conflicts: list[str] = field(default_factory=list)

    @property
    def changes_anything(self) -> bool:
        return bool(self.upserts or self.deletes or self.new_tombstones or self.dropped_tombstones)


@dataclass(frozen=True)
class MergeContext:
    vault_id: bytes
    verify_key: bytes
    today: date
    local_device: str
    remote_device: str
    authenticate: Callable[[RemoteRow], Contact | None]  # None: does not authenticate
    local_contact: Callable[[str], Contact | None]  # decrypted local version (None if damaged)
    locally_changed: frozenset[str]  # ids edited on this device since the last sync
    last_sync: datetime | None = None  # naive UTC; a remote version updated after it is concurrent
    held_here: frozenset[str] = frozenset()  # ids whose current local version is a hold placed on this device
    gone: Mapping[str, int] = field(default_factory=dict)  # id -> version of records whose tombstone expired here


def _meta_ok(ctx: MergeContext, row: RemoteRow | LocalRowLike) -> bool:
    message = meta_message(ctx.vault_id, row.id, row.retention_end, bool(row.hold), row.meta_version, row.history)
    return crypto.verify(ctx.verify_key, message, row.meta_sig)


def tombstone_verified(vault_id: bytes, verify_key: bytes, today: date, tomb: RemoteTombstone) -> bool:
    """The tombstone's own signed metadata verifies, and so does its justification:
    the signing key signed the erasure, or (a purge) the signed retention end has passed."""
    if tomb.meta_version is None or tomb.meta_sig is None:
        return False
    message = meta_message(vault_id, tomb.id, tomb.retention_end, False, tomb.meta_version, tomb.history)
    if not crypto.verify(verify_key, message, tomb.meta_sig):
        return False
    if tomb.reason == "purged":
        return tomb.retention_end is not None and tomb.retention_end < today
    if tomb.signature is None:
        return False
    erasure = tombstone_message(vault_id, tomb.id, tomb.reason, tomb.deleted_at, tomb.meta_version)
    return crypto.verify(verify_key, erasure, tomb.signature)


def _beats(tomb: RemoteTombstone, row: RemoteRow) -> bool:
    """The tombstone deleted this version or a later one that descends from it."""
    if tomb.meta_version is None:
        return False
    precedes = causal.precedes(row.history, tomb.history)
    return row.meta_version <= tomb.meta_version if precedes is None else precedes


def _deletes(ctx: MergeContext, tomb: RemoteTombstone, local: LocalRowLike) -> bool:
    """Whether a verified remote tombstone deletes our row.

    It must be the very version that was deleted (same version and signature) or a
    newer one; and a hold this device placed on its current version is never lifted
    by another device's deletion it has not seen (the two happened concurrently:
    "held stays held", reported as a conflict for the owner to decide).
    """
    if tomb.meta_version is None:
        return False
    mine = ctx.local_contact(local.id)  # the authenticated history, not the row's plaintext column
    precedes = causal.precedes(mine.history if mine is not None else b"", tomb.history)
    if precedes is not None:
        return precedes  # the deleted version is ours or descends from it; else concurrent
    if local.meta_version == tomb.meta_version:
        return local.meta_sig == tomb.meta_sig
    return local.meta_version < tomb.meta_version and not (local.hold and local.id in ctx.held_here)


def plan_merge(
    ctx: MergeContext,
    remote_rows: list[RemoteRow],
    remote_tombstones: list[RemoteTombstone],
    local_rows: dict[str, LocalRowLike],
    local_tombstones: dict[str, RemoteTombstone],
) -> MergePlan:
    plan = MergePlan()
    deleted: set[str] = set()
    tombstoned: dict[str, RemoteTombstone] = {
        tid: t for tid, t in local_tombstones.items() if tombstone_verified(ctx.vault_id, ctx.verify_key, ctx.today, t)
    }

    for tomb in remote_tombstones:
        known = tombstoned.get(tomb.id)
        if known is not None and known.meta_version is not None and (tomb.meta_version or 0) <= known.meta_version:
            continue
        if not tombstone_verified(ctx.vault_id, ctx.verify_key, ctx.today, tomb):
            plan.rejected.append(tomb.id)
            continue
        local = local_rows.get(tomb.id)
        if local is not None and not _deletes(ctx, tomb, local):
            plan.conflicts.append(tomb.id)  # deleted elsewhere, but not the version we hold: ours stays
            continue
        if local is not None:
            plan.deletes.append(tomb.id)
            deleted.add(tomb.id)
        plan.new_tombstones.append(tomb)
        tombstoned[tomb.id] = tomb

    for row in remote_rows:
        if row.id in deleted:
            continue
        stone = tombstoned.get(row.id)
        local = local_rows.get(row.id)
        if (
            stone is None
            and local is not None
            and local.meta_version == row.meta_version
            and local.sealed == row.sealed
            and local.meta_sig == row.meta_sig
        ):
            continue  # byte-identical to our own row: nothing to check or change
        if stone is not None and _beats(stone, row):
            continue  # a verified tombstone beats the version it deleted and its ancestors
        if stone is None and local is None and row.meta_version <= ctx.gone.get(row.id, 0):
            continue  # deleted here so long ago that only the manifest remembers it
        if not _meta_ok(ctx, row):
            plan.rejected.append(row.id)
            continue
        remote = ctx.authenticate(row)
        if remote is None:
            plan.rejected.append(row.id)
            continue
        if stone is not None:
            # An authentic version newer than the deleted one (edited elsewhere after
            # this device deleted an older version): the record stands; report it.
            plan.dropped_tombstones.append(row.id)
            plan.conflicts.append(row.id)
        if local is None:
            plan.upserts.append(row)
            plan.added += 1
            continue
        mine = ctx.local_contact(row.id)
        remote_key = (row.hold, row.meta_version, remote.updated, ctx.remote_device)
        local_key = (local.hold, local.meta_version, mine.updated if mine else remote.updated, ctx.local_device)
        found = causal.order(row.history, mine.history) if mine is not None else None
        if mine is not None and found is not None:
            if found is Order.AFTER:
                plan.upserts.append(row)  # a later version of ours
                plan.updated += 1
            elif found is Order.CONCURRENT:
                if remote_key > local_key:
                    plan.upserts.append(row)
                    plan.updated += 1
                # Both sides changed it (perhaps alike, e.g. both released a hold); one version was kept.
                plan.conflicts.append(row.id)
            continue
        if mine is not None and mine == remote:
            continue  # same content, re-sealed elsewhere
        # Before histories: versions and times only.
        if mine is None or remote_key[1:] > local_key[1:]:
            plan.upserts.append(row)
            plan.updated += 1
            if row.id in ctx.locally_changed:
                plan.conflicts.append(row.id)
        elif row.meta_version == local.meta_version or (
            row.id in ctx.locally_changed and ctx.last_sync is not None and remote.updated > ctx.last_sync
        ):
            plan.conflicts.append(row.id)  # concurrent edits; the local version was kept
    return plan

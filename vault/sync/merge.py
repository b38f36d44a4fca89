"""Merging a pulled snapshot into the local vault: a pure plan, applied elsewhere.

Rules (DESIGN.md, Sync blob):

* A remote record counts only if it opens under the record key with the
  record's own additional data and its metadata signature verifies; anything
  else is rejected and reported by id.
* Per record the higher ``meta_version`` wins, ties broken by (updated, device).
  Both sides having changed one record is reported as a conflict.
* Tombstones always win over every version of their record, but a remote
  tombstone deletes a local record only if it is signed by the vault (an
  erasure) or the record's own signed retention end has passed and it has no
  hold (a purge); an unsigned tombstone for an unexpired record is refused.
* A blob never deletes a record it merely omits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from vault import crypto
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


def _meta_ok(ctx: MergeContext, row: RemoteRow | LocalRowLike) -> bool:
    message = meta_message(ctx.vault_id, row.id, row.retention_end, bool(row.hold), row.meta_version)
    return crypto.verify(ctx.verify_key, message, row.meta_sig)


def _signed(ctx: MergeContext, tomb: RemoteTombstone) -> bool:
    if tomb.signature is None:
        return False
    return crypto.verify(
        ctx.verify_key, tombstone_message(ctx.vault_id, tomb.id, tomb.reason, tomb.deleted_at), tomb.signature
    )


def _purge_justified(ctx: MergeContext, row: RemoteRow | LocalRowLike) -> bool:
    """The record's own signed metadata says its retention has ended and no hold applies."""
    return row.retention_end is not None and row.retention_end < ctx.today and not row.hold and _meta_ok(ctx, row)


def tombstone_applies(ctx: MergeContext, tomb: RemoteTombstone, row: RemoteRow | LocalRowLike) -> bool:
    return _signed(ctx, tomb) or _purge_justified(ctx, row)


def plan_merge(
    ctx: MergeContext,
    remote_rows: list[RemoteRow],
    remote_tombstones: list[RemoteTombstone],
    local_rows: dict[str, LocalRowLike],
    local_tombstones: dict[str, RemoteTombstone],
) -> MergePlan:
    plan = MergePlan()
    deleted: set[str] = set()
    tombstoned: dict[str, RemoteTombstone] = dict(local_tombstones)

    for tomb in remote_tombstones:
        if tomb.id in tombstoned or not 1 <= len(tomb.reason) <= 16:
            continue
        if tomb.signature is not None and not _signed(ctx, tomb):
            plan.rejected.append(tomb.id)
            continue
        local = local_rows.get(tomb.id)
        if local is None:
            # Kept and passed on, so a device that still has the record learns of
            # it; every later use re-checks it against that record's signed metadata.
            plan.new_tombstones.append(tomb)
            tombstoned[tomb.id] = tomb
        elif tombstone_applies(ctx, tomb, local):
            plan.deletes.append(tomb.id)
            plan.new_tombstones.append(tomb)
            tombstoned[tomb.id] = tomb
            deleted.add(tomb.id)
        else:
            plan.rejected.append(tomb.id)  # unsigned tombstone for a record still within retention

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
        if stone is not None and tombstone_applies(ctx, stone, row):
            continue  # tombstones always win
        if not _meta_ok(ctx, row):
            plan.rejected.append(row.id)
            continue
        remote = ctx.authenticate(row)
        if remote is None:
            plan.rejected.append(row.id)
            continue
        if stone is not None:
            # An authentic record still within retention beats a tombstone that
            # proves nothing (unsigned, and the record is not due): report it.
            plan.dropped_tombstones.append(row.id)
            plan.conflicts.append(row.id)
        if local is None:
            plan.upserts.append(row)
            plan.added += 1
            continue
        mine = ctx.local_contact(row.id)
        if mine is not None and mine == remote:
            continue  # same content, re-sealed elsewhere
        remote_key = (row.meta_version, remote.updated, ctx.remote_device)
        local_key = (local.meta_version, mine.updated if mine else remote.updated, ctx.local_device)
        if mine is None or remote_key > local_key:
            plan.upserts.append(row)
            plan.updated += 1
            if row.id in ctx.locally_changed:
                plan.conflicts.append(row.id)
        elif row.meta_version == local.meta_version:
            plan.conflicts.append(row.id)  # concurrent edits; the local version was kept
    return plan

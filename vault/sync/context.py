"""What a pull's merge needs to know about this device (vault.sync.merge.MergeContext).

Built from the unlocked vault: the keys, the audit log (which records this device
changed since its last sync, which holds it placed itself) and the manifest
(records whose tombstone expired here).  The audit-based facts only matter for
rows from before causal histories existed (vault.causal).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from vault.clock import local_today, naive_utc
from vault.errors import VaultDamaged
from vault.model import Contact
from vault.store.models import ManifestRow
from vault.sync.merge import MergeContext
from vault.sync.parts import SyncParts
from vault.sync.snapshot import RemoteRow, RemoteTombstone
from vault.sync.state import SyncState

EDIT_ACTIONS = frozenset({"created", "updated", "restricted", "unrestricted", "held", "released", "imported"})


def merge_context(vault: SyncParts, state: SyncState, remote_device: str, held: Iterable[str]) -> MergeContext:
    """``held``: the ids of local rows that carry a hold."""
    meta = vault.store.read_meta()

    def authenticate(row: RemoteRow) -> Contact | None:
        try:
            return vault.book.sealer.open(row)
        except VaultDamaged:
            return None

    return MergeContext(
        vault_id=meta.vault_id,
        verify_key=meta.verify_key,
        today=local_today(vault.clock),
        local_device=meta.device_id,
        remote_device=remote_device,
        authenticate=authenticate,
        local_contact=vault.book.local,
        locally_changed=_locally_changed(vault, state.last_sync),
        last_sync=naive_utc(datetime.fromisoformat(state.last_sync)) if state.last_sync else None,
        held_here=_held_here(vault, held),
        gone=_gone(vault),
    )


def local_tombstones(vault: SyncParts) -> dict[str, RemoteTombstone]:
    return {
        t.id: RemoteTombstone(
            t.id, t.deleted_at, t.reason, t.retention_end, t.signature, t.meta_version, t.meta_sig, t.history
        )
        for t in vault.store.tombstone_rows()
    }


def _held_here(vault: SyncParts, held_ids: Iterable[str]) -> frozenset[str]:
    """Held records whose current version is a hold this device placed (its own "held"
    audit row at or after the version's update time), not one received from another device."""
    held = set(held_ids)
    if not held:
        return frozenset()
    placed: dict[str, datetime] = {}
    for entry in vault.audit.entries(action="held"):
        if entry.record_id in held and entry.device == vault.ring.device_id:
            placed[entry.record_id] = naive_utc(entry.at)
    out = set()
    for record_id, at in placed.items():
        contact = vault.book.local(record_id)
        if contact is not None and at >= contact.updated:
            out.add(record_id)
    return frozenset(out)


def _gone(vault: SyncParts) -> dict[str, int]:
    """Records whose tombstone expired here: the manifest keeps their id and version, negated (vault.book)."""
    # Only the few negative entries, not the whole manifest (one per record: 100k rows).
    gone = select(ManifestRow.id, ManifestRow.version).where(ManifestRow.version < 0)
    with vault.store.session() as s:
        return {rid: -version for rid, version in s.execute(gone) if type(rid) is str and type(version) is int}


def _locally_changed(vault: SyncParts, since: str | None) -> frozenset[str]:
    if since is None:
        return frozenset()
    return frozenset(vault.audit.touched_since(datetime.fromisoformat(since), only=EDIT_ACTIONS, own=True))

"""The purge's one transaction, kept in the store layer (only it holds a Session)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime

from sqlalchemy import and_, delete, func, insert, not_, select
from sqlalchemy.orm import Session

from vault.store.keeping import DEFAULT_LOG_RETENTION_YEARS as DEFAULT_LOG_RETENTION_YEARS
from vault.store.keeping import records_cutoff as records_cutoff
from vault.store.keeping import records_kept_until as records_kept_until
from vault.store.models import AuditRow, ContactRow, RequestRow, TombstoneRow
from vault.store.repository import Store

# (record id, retention end, hold, meta_version, meta_sig, history) -> signature verifies?
Verifier = Callable[[str, date, bool, int, bytes, bytes], bool]

# The keeping rule of the records about the records (issue 11, 15).  Pure date rules
# belong with vault.retention; they sit here because both vault.purge (audit rows,
# closed requests) and vault.book (tombstones, at unlock) use them, and the layers
# contract keeps those two apart.  vault.purge re-exports them.
# They are defined without SQLAlchemy (vault.store.keeping), for the one-shot read path.
ACTION_EXPIRED = "records-expired"  # old audit rows, closed requests or tombstones dropped (counts only)
ACTION_ERASE_REQUESTED = "erase-requested"  # vault.rights writes it when a duty or hold defers an erasure


def _erasures_requested(s: Session, ids: list[str]) -> dict[str, str]:
    """The day (ISO) an erasure of each of ``ids`` was requested and deferred, from the audit log."""
    found: dict[str, str] = {}
    for chunk in range(0, len(ids), 500):
        for record_id, at in s.execute(
            select(AuditRow.record_id, AuditRow.at)
            .where(AuditRow.action == ACTION_ERASE_REQUESTED, AuditRow.record_id.in_(ids[chunk : chunk + 500]))
            .order_by(AuditRow.seq)
        ):
            found.setdefault(str(record_id), at.date().isoformat())
    return found


def delete_expired(
    store: Store,
    today: date,
    verify: Verifier,
    *,
    manifest_of: Callable[[Session], Mapping[str, int]],
    now: datetime,
    device: str,
    purged_action: str,
    refused_action: str,
    pending_action: str,
) -> tuple[list[tuple[str, date]], list[str]]:
    """Select expired, unheld rows, verify each, delete the good ones with tombstones
    and audit rows, all in ONE transaction (BEGIN IMMEDIATE).

    Selecting inside the same transaction as the delete matters: a row edited
    (say, put on hold) by another process between a separate selection and the
    delete could otherwise be deleted on stale facts.  ``manifest_of`` checks the
    signed head first (raising before anything is deleted) and gives the newest
    version of every record: a row that is not the newest was copied back from an
    older file and is refused.  Returns (purged, refused).
    """
    purged: list[tuple[str, date]] = []
    refused: list[str] = []
    with store.session() as s:
        manifest = manifest_of(s)
        rows = s.execute(
            select(
                ContactRow.id,
                ContactRow.retention_end,
                ContactRow.hold,
                ContactRow.meta_version,
                ContactRow.meta_sig,
                ContactRow.history,
            )
            .where(ContactRow.retention_end < today, ContactRow.hold.is_(False))
            .order_by(ContactRow.retention_end, ContactRow.id)
        ).all()
        signed: dict[str, tuple[int, bytes, bytes]] = {}
        for record_id, end, hold, meta_version, signature, history in rows:
            if end is None:
                continue
            if manifest.get(record_id) == meta_version and verify(
                record_id, end, bool(hold), meta_version, signature, history
            ):
                purged.append((record_id, end))
                signed[record_id] = (meta_version, signature, history)
            else:
                refused.append(record_id)
        if purged:
            store.delete_contacts(s, [record_id for record_id, _ in purged])
            s.execute(
                insert(TombstoneRow).prefix_with("OR REPLACE"),
                [
                    {
                        "id": record_id,
                        "deleted_at": now,
                        "reason": purged_action,
                        "retention_end": end,
                        "signature": None,
                        "meta_version": signed[record_id][0],
                        "meta_sig": signed[record_id][1],
                        "history": signed[record_id][2],
                    }
                    for record_id, end in purged
                ],
            )
        requested = _erasures_requested(s, [record_id for record_id, _ in purged])
        audit = [
            {
                "at": now,
                "action": purged_action,
                "record_id": record_id,
                "device": device,
                "detail": f"retention_end={end.isoformat()}"
                + (f"; completes the erasure requested {requested[record_id]}" if record_id in requested else ""),
            }
            for record_id, end in purged
        ]
        audit += [
            {
                "at": now,
                "action": refused_action,
                "record_id": record_id,
                "device": device,
                "detail": "metadata not the newest signed version; not deleted",
            }
            for record_id in refused
        ]
        if purged:  # the remote copy still holds the purged records until the next push
            audit.append(
                {
                    "at": now,
                    "action": pending_action,
                    "record_id": None,
                    "device": device,
                    "detail": f"{len(purged)} purged",
                }
            )
        if audit:
            s.execute(insert(AuditRow), audit)
    return purged, refused


def drop_old_records(
    store: Store,
    before: date,
    *,
    keep_newest: tuple[str, ...],
    now: datetime,
    device: str,
    action: str,
    dry_run: bool = False,
) -> tuple[int, int, int]:
    """The records about the records, in ONE transaction: delete audit rows written
    before ``before`` (except the newest row of each action in ``keep_newest``, which
    carry state such as a pending push, and the request of an erasure still waiting
    for its duty to end, which the purge completing it cites) and requests closed before ``before`` (their
    notes are inside the sealed row and go with it).  Tombstones written before
    ``before`` are only counted: they are dropped by the next unlock, which can
    re-sign the manifest (vault.book).  When anything was deleted, one ``action``
    audit row gives the counts.  With ``dry_run`` nothing is written.

    Returns (audit rows, closed requests, tombstones due).
    """
    start = datetime(before.year, before.month, before.day)
    with store.session() as s:
        newest = select(func.max(AuditRow.seq)).where(AuditRow.action.in_(keep_newest)).group_by(AuditRow.action)
        pending = and_(AuditRow.action == ACTION_ERASE_REQUESTED, AuditRow.record_id.in_(select(ContactRow.id)))
        old_audit = (AuditRow.at < start, AuditRow.seq.not_in(newest), not_(pending))  # pending erasures stay
        old_requests = (RequestRow.closed.is_not(None), RequestRow.closed < before)
        tombstones = int(
            s.scalar(select(func.count()).select_from(TombstoneRow).where(TombstoneRow.deleted_at < start)) or 0
        )
        if dry_run:
            audit = int(s.scalar(select(func.count()).select_from(AuditRow).where(*old_audit)) or 0)
            requests = int(s.scalar(select(func.count()).select_from(RequestRow).where(*old_requests)) or 0)
            return audit, requests, tombstones
        audit = int(s.execute(delete(AuditRow).where(*old_audit)).rowcount or 0)  # type: ignore[attr-defined]
        requests = int(s.execute(delete(RequestRow).where(*old_requests)).rowcount or 0)  # type: ignore[attr-defined]
        if audit or requests:
            s.execute(
                insert(AuditRow),
                [{"at": now, "action": action, "record_id": None, "device": device,
                  "detail": f"log={audit} requests={requests}"}],
            )  # fmt: skip
    return audit, requests, tombstones


def ending_by(store: Store, last: date) -> list[tuple[str, date | None, bool]]:
    """(id, retention end, hold) of every record whose retention ends by ``last``."""
    with store.session() as s:
        rows = s.execute(
            select(ContactRow.id, ContactRow.retention_end, ContactRow.hold)
            .where(ContactRow.retention_end.is_not(None), ContactRow.retention_end <= last)
            .order_by(ContactRow.retention_end, ContactRow.id)
        ).all()
    return [(record_id, end, bool(hold)) for record_id, end, hold in rows]


def reviews_before(store: Store, today: date) -> list[tuple[str, date | None, date | None]]:
    """(id, review date, retention end) of records whose review date lies before ``today``."""
    with store.session() as s:
        rows = s.execute(
            select(ContactRow.id, ContactRow.review_at, ContactRow.retention_end)
            .where(ContactRow.review_at.is_not(None), ContactRow.review_at < today)
            .order_by(ContactRow.review_at, ContactRow.id)
        ).all()
    return [(record_id, review, end) for record_id, review, end in rows]

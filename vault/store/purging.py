"""The purge's one transaction, kept in the store layer (only it holds a Session)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from vault.store.models import AuditRow, ContactRow, TombstoneRow
from vault.store.repository import Store

# (record id, retention end, hold, meta_version, meta_sig) -> signature verifies?
Verifier = Callable[[str, date, bool, int, bytes], bool]


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
                ContactRow.id, ContactRow.retention_end, ContactRow.hold, ContactRow.meta_version, ContactRow.meta_sig
            )
            .where(ContactRow.retention_end < today, ContactRow.hold.is_(False))
            .order_by(ContactRow.retention_end, ContactRow.id)
        ).all()
        signed: dict[str, tuple[int, bytes]] = {}
        for record_id, end, hold, meta_version, signature in rows:
            if end is None:
                continue
            if manifest.get(record_id) == meta_version and verify(record_id, end, bool(hold), meta_version, signature):
                purged.append((record_id, end))
                signed[record_id] = (meta_version, signature)
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
                    }
                    for record_id, end in purged
                ],
            )
        audit = [
            {
                "at": now,
                "action": purged_action,
                "record_id": record_id,
                "device": device,
                "detail": f"retention_end={end.isoformat()}",
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

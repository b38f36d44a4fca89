"""The accountability log (Art. 5(2)): what happened to which record id, when, on which device.

Record ids, actions, dates and short details only: never personal data.  Every
part that writes receives an :class:`AuditLog` and adds its rows inside its
own transaction, so the log and the change commit together.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from vault.clock import Clock, naive_utc
from vault.model import AuditEntry
from vault.store.models import AuditRow
from vault.store.repository import Store


class AuditLog:
    """Writes and reads the audit table of one vault, as one device."""

    def __init__(self, store: Store, clock: Clock, device: str) -> None:
        self._store = store
        self._clock = clock
        self.device = device

    def add(self, session: Session, action: str, record_id: str | None = None, detail: str = "") -> None:
        """One row inside the caller's transaction."""
        session.add(
            AuditRow(
                at=naive_utc(self._clock()),
                action=action,
                record_id=record_id,
                device=self.device,
                detail=detail,
            )
        )

    def entries(self, *, action: str | None = None, since: date | None = None) -> list[AuditEntry]:
        """Rows in the order written, optionally of one action and from a day on."""
        start = datetime(since.year, since.month, since.day) if since else None
        return [
            AuditEntry(
                at=row.at.replace(tzinfo=UTC),
                action=row.action,
                record_id=row.record_id,
                device=row.device,
                detail=row.detail,
            )
            for row in self._store.audit_rows(action, start)
        ]

    def touched_since(
        self,
        since: datetime,
        *,
        only: frozenset[str] | None = None,
        excluding: frozenset[str] = frozenset(),
        own: bool = False,
    ) -> set[str]:
        """Record ids with an audit row at or after ``since``: of the actions in ``only``
        (all if None) and not in ``excluding``; this device's rows only if ``own``."""
        return {
            row.record_id
            for row in self._store.audit_rows(None, naive_utc(since))
            if row.record_id
            and (only is None or row.action in only)
            and row.action not in excluding
            and (not own or row.device == self.device)
        }

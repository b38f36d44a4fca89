"""The audit table's rows exactly as stored, for their seals (vault.audit, issue 12.7).

A seal is a MAC over the stored values, so these functions read them unconverted
(no type decorator can make two different rows look alike), on the driver's cursor
inside the caller's transaction; which rows a transaction wrote: those after the last row
number the store noted when it began (:meth:`vault.store.repository.Store.session`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import Session

from vault.store.models import AuditRow
from vault.store.repository import Store

_COLUMNS = "SELECT seq, at, action, record_id, device, detail, mac FROM audit"


class RawAuditRow(NamedTuple):
    """One audit row as stored."""

    seq: int
    at: object
    action: object
    record_id: object
    device: object
    detail: object
    mac: bytes | None


def _rows(s: Session, where: str, params: Sequence[object] = ()) -> list[RawAuditRow]:
    s.flush()  # rows the ORM still holds go in first
    driver = s.connection().connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    return [RawAuditRow(*row) for row in driver.execute(f"{_COLUMNS} {where}", tuple(params))]


def new_rows_in(s: Session) -> list[RawAuditRow]:
    """The rows this transaction wrote that carry no seal yet, oldest first."""
    return _rows(s, "WHERE seq > ? AND mac IS NULL ORDER BY seq", (s.info.get(Store.FIRST_AUDIT_SEQ, 0),))


def new_rows_chunked_in(s: Session, size: int) -> Iterator[list[RawAuditRow]]:
    """:func:`new_rows_in`, ``size`` rows at a time (the caller may seal each chunk before the next)."""
    after = s.info.get(Store.FIRST_AUDIT_SEQ, 0)
    while rows := _rows(s, "WHERE seq > ? AND mac IS NULL ORDER BY seq LIMIT ?", (after, size)):
        yield rows
        after = rows[-1].seq


def row_before_in(s: Session, seq: int) -> RawAuditRow | None:
    """The row before row ``seq``."""
    rows = _rows(s, "WHERE seq < ? ORDER BY seq DESC LIMIT 1", (seq,))
    return rows[0] if rows else None


def all_rows_in(s: Session) -> list[RawAuditRow]:
    return _rows(s, "ORDER BY seq")


def all_rows(store: Store) -> list[RawAuditRow]:
    with store.session() as s:
        return all_rows_in(s)


def any_sealed(store: Store) -> bool:
    with store.session() as s:
        return bool(_rows(s, "WHERE mac IS NOT NULL LIMIT 1"))


def set_macs_in(s: Session, seals: Sequence[tuple[int, bytes]]) -> None:
    """Write seals: (row number, seal)."""
    if seals:
        statement = update(AuditRow).where(AuditRow.seq == bindparam("row")).values(mac=bindparam("seal"))
        s.connection().execute(statement, [{"row": seq, "seal": seal} for seq, seal in seals])


def insert_rows_in(s: Session, rows: Sequence[dict[str, object]]) -> None:
    """New rows (at, action, record_id, device, detail), in order, in one executemany (issue 15:
    an import writes one per record); sealed at commit like every other row."""
    if rows:
        s.connection().execute(insert(AuditRow), list(rows))

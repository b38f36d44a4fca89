"""The accountability log (Art. 5(2)): what happened to which record id, when, on which device.

Record ids, actions, dates and short details only: never personal data.  Every
part that writes receives an :class:`AuditLog` and adds its rows inside its
own transaction, so the log and the change commit together.

Integrity (issue 12.7).  Every row carries a seal (``audit.mac``): the number
and time of the row before it when it was written, and a MAC under the audit
key over both and the row exactly as stored.  The audit key is derived from
the root key (label ``auditlog``); this device keeps a copy in its data folder
(0600, beside the pins; like the push key), so the passphrase-less purge seals
its rows and `sealbook log` checks the log without the passphrase.  Rows are
sealed just before their transaction commits, whoever wrote them (the store's
commit hook), so no writer can forget it.  When the log is read:

* a row whose MAC fails was changed ("changed");
* a row named as the one before another, but missing, was deleted ("deleted"),
  unless it was old enough for the purge's log retention to have dropped it;
* a row without a seal was not written by sealbook ("not sealed").

Rows written before this version are sealed at the first unlock on a device
that has not kept an audit key yet (the owner vouches for what is there then);
a device that kept one never seals old rows again, so stripping every seal is
reported, not re-sealed.  What cannot be seen: rows cut from the very end of
the log (no later row names them), and a forgery by whoever can read this
device's data folder (they hold the key, as they hold the push key).
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event
from sqlalchemy.orm import Session

from vault import crypto
from vault.auditkey import LABEL_AUDIT as LABEL_AUDIT
from vault.auditkey import AuditKeyFile as AuditKeyFile
from vault.auditkey import audit_key as audit_key
from vault.clock import Clock, naive_utc
from vault.errors import VaultError
from vault.i18n import _, ngettext
from vault.model import AuditEntry
from vault.store import auditing
from vault.store.auditing import RawAuditRow
from vault.store.models import AuditRow
from vault.store.purging import DEFAULT_LOG_RETENTION_YEARS, records_cutoff
from vault.store.repository import Store

SEAL_VERSION = 1
_SEAL = struct.Struct("<BQq")  # version, seq of the row before, its time (µs since 1970, UTC; 0: none)
SEAL_BYTES = _SEAL.size + 32
_EPOCH = datetime(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)
SEAL_CHUNK = 2000  # new rows read and sealed at a time when a transaction commits


# --- seals ----------------------------------------------------------------------------------


def _typed(value: object) -> bytes:
    """A stored value with its SQLite type, so no change of type can pass for the same row."""
    if value is None:
        return b"n"
    if isinstance(value, int):
        return b"i" + struct.pack("<q", value)
    if isinstance(value, str):
        return b"s" + value.encode("utf-8", "surrogatepass")
    if isinstance(value, bytes):
        return b"b" + value
    if isinstance(value, float):
        return b"f" + struct.pack("<d", value)
    raise TypeError("not an SQLite value")


def _message(vault_id: bytes, row: RawAuditRow, prev_seq: int, prev_at: int) -> bytes:
    fields = (row.seq, row.at, row.action, row.record_id, row.device, row.detail)
    return crypto.pae(b"sealbook-audit-v1", vault_id, prev_seq, prev_at, *(_typed(v) for v in fields))


def _micros(moment: datetime) -> int:
    """A naive UTC time as microseconds since 1970."""
    return (moment - _EPOCH) // _MICROSECOND


def _stored_micros(stored: object) -> int:
    """A time as the store wrote it (naive UTC text) in microseconds since 1970; 0 when it does not parse."""
    try:
        moment = datetime.fromisoformat(str(stored))
    except ValueError:
        return 0
    return _micros(moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment)


def make_seal(key: bytes, vault_id: bytes, row: RawAuditRow, before: RawAuditRow | None) -> bytes:
    """The seal of ``row``, written after ``before`` (None: the first row)."""
    prev_seq, prev_at = (before.seq, _stored_micros(before.at)) if before is not None else (0, 0)
    return _SEAL.pack(SEAL_VERSION, prev_seq, prev_at) + crypto.mac(key, _message(vault_id, row, prev_seq, prev_at))


def _opened(key: bytes, vault_id: bytes, row: RawAuditRow) -> tuple[int, int] | None:
    """(seq, time) of the row before ``row`` that its seal names, when the seal holds; else None."""
    seal = row.mac
    if not isinstance(seal, bytes) or len(seal) != SEAL_BYTES:
        return None
    version, prev_seq, prev_at = _SEAL.unpack_from(seal)
    try:
        message = _message(vault_id, row, prev_seq, prev_at)
    except TypeError:
        return None
    if version != SEAL_VERSION or not crypto.mac_ok(key, message, seal[_SEAL.size :]):
        return None
    return prev_seq, prev_at


@dataclass(frozen=True)
class AuditCheck:
    """What checking the log's seals found, by row number (``seq``, oldest first)."""

    changed: tuple[int, ...] = ()
    deleted: tuple[int, ...] = ()  # rows a later row names as the one before it, and missing
    unsealed: tuple[int, ...] = ()
    checked: bool = True  # False: this device keeps no audit key yet (unlock the vault once here)

    @property
    def ok(self) -> bool:
        return self.checked and not (self.changed or self.deleted or self.unsealed)

    def describe(self) -> str:
        """One line for the owner."""
        if not self.checked:
            return _("the log cannot be checked on this device until the vault is unlocked here once")
        parts = []
        for words, rows in (
            (_("changed: {rows}"), self.changed),
            (_("deleted: {rows}"), self.deleted),
            (_("not sealed: {rows}"), self.unsealed),
        ):
            if rows:
                shown = ", ".join(str(seq) for seq in rows[:20]) + (", ..." if len(rows) > 20 else "")
                parts.append(words.format(rows=ngettext("row {rows}", "rows {rows}", len(rows)).format(rows=shown)))
        return _("the accountability log was changed outside sealbook ({parts})").format(parts="; ".join(parts))


def check_rows(rows: Sequence[RawAuditRow], key: bytes, vault_id: bytes, cutoff: datetime) -> AuditCheck:
    """Check the seals of ``rows`` (the whole table, in seq order).  A missing row older than
    ``cutoff`` (naive UTC) may have been dropped by the log retention: not "deleted"."""
    present = {row.seq for row in rows}
    changed, deleted, unsealed = [], set(), []
    for row in rows:
        if row.mac is None:
            unsealed.append(row.seq)
            continue
        before = _opened(key, vault_id, row)
        if before is None:
            changed.append(row.seq)
        elif before[0] and before[0] not in present and before[1] >= _micros(cutoff):
            deleted.add(before[0])
    return AuditCheck(tuple(changed), tuple(sorted(deleted)), tuple(unsealed))


# --- the key this device keeps --------------------------------------------------------------


# --- the log ----------------------------------------------------------------------------------


class AuditLog:
    """Writes, seals, checks and reads the audit table of one vault, as one device."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        device: str,
        *,
        vault_id: bytes = b"",
        root: Callable[[], bytes | bytearray | None] = lambda: None,
        keep_years: int = DEFAULT_LOG_RETENTION_YEARS,
    ) -> None:
        self._store = store
        self._clock = clock
        self.device = device
        self._vault_id = vault_id
        self._root = root
        self._keep_years = keep_years
        self._file = AuditKeyFile(vault_id.hex(), device) if vault_id else None
        if self._file is not None:
            store.add_commit_hook(self._seal_new)

    def add(self, session: Session, action: str, record_id: str | None = None, detail: str = "") -> None:
        """One row inside the caller's transaction (sealed when it commits)."""
        session.add(
            AuditRow(
                at=naive_utc(self._clock()),
                action=action,
                record_id=record_id,
                device=self.device,
                detail=detail,
            )
        )

    def add_many(self, session: Session, action: str, record_ids: Iterable[str], detail: str = "") -> None:
        """One row per record id, in order, as :meth:`add` would write them, in one
        executemany (issue 15: an import writes one per record)."""
        clock, device = self._clock, self.device
        auditing.insert_rows_in(
            session,
            [
                {"at": naive_utc(clock()), "action": action, "record_id": rid, "device": device, "detail": detail}
                for rid in record_ids
            ],
        )

    # --- seals ----------------------------------------------------------------------------

    def _key(self) -> bytes | None:
        root = self._root()
        if root is not None:
            return audit_key(root)
        return self._file.load() if self._file is not None else None

    def _seal_new(self, s: Session) -> None:
        """The store's commit hook: seal the rows this transaction wrote (in order), a chunk
        at a time (an import writes one per record: issue 15)."""
        key: bytes | None = None
        before: RawAuditRow | None = None
        for rows in auditing.new_rows_chunked_in(s, SEAL_CHUNK):
            if key is None:
                key = self._key()
                if key is None:  # the purge on a device that never kept the key ("not sealed")
                    return
                before = auditing.row_before_in(s, rows[0].seq)
            before = self._seal_after(s, key, rows, before)

    def _seal(self, s: Session, key: bytes, rows: Sequence[RawAuditRow]) -> None:
        if rows:
            self._seal_after(s, key, rows, auditing.row_before_in(s, rows[0].seq))

    def _seal_after(
        self, s: Session, key: bytes, rows: Sequence[RawAuditRow], before: RawAuditRow | None
    ) -> RawAuditRow | None:
        """Seal ``rows`` (in order), the first one after ``before``; returns the last one."""
        seals = []
        for row in rows:
            seals.append((row.seq, make_seal(key, self._vault_id, row, before)))
            before = row
        auditing.set_macs_in(s, seals)
        return before

    def keep_key(self) -> None:
        """At unlock: keep the audit key on this device; the first time, seal the rows written
        before this version (or before this device kept a key), unless some row is sealed."""
        root = self._root()
        if root is None or self._file is None:
            return
        key = audit_key(root)
        first = self._file.load() is None
        try:
            if first and not auditing.any_sealed(self._store):
                with self._store.session() as s:
                    self._seal(s, key, auditing.all_rows_in(s))
            self._file.save(key)
        except (VaultError, OSError):
            return  # a read-only or full vault or data folder: tried again at the next unlock

    def rekey_in(self, s: Session, new_root: bytes | bytearray) -> None:
        """Key rotation (vault.rotation), inside its transaction: every row whose seal holds under
        the old key, and every row of this transaction, is sealed under the new one; the others
        keep what they have (a failing seal or none), so rotation hides no change."""
        old, new = self._key(), audit_key(new_root)
        if old is None:
            return
        fresh = {row.seq for row in auditing.new_rows_in(s)}
        rows = auditing.all_rows_in(s)
        seals = []
        before: RawAuditRow | None = None
        for row in rows:
            named = _opened(old, self._vault_id, row)
            if named is not None:
                message = _message(self._vault_id, row, *named)
                seals.append((row.seq, _SEAL.pack(SEAL_VERSION, *named) + crypto.mac(new, message)))
            elif row.seq in fresh:
                seals.append((row.seq, make_seal(new, self._vault_id, row, before)))
            before = row
        auditing.set_macs_in(s, seals)
        # This device's copy follows once the rotation has committed (and only then).
        event.listen(s, "after_commit", lambda _session: self._keep(new), once=True)

    def _keep(self, key: bytes) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.save(key)

    def check(self) -> AuditCheck:
        """Check every row's seal (needs no passphrase on a device that keeps the key)."""
        key = self._key()
        if key is None:
            return AuditCheck(checked=False)
        cutoff = records_cutoff(naive_utc(self._clock()).date(), self._keep_years)
        return check_rows(
            auditing.all_rows(self._store), key, self._vault_id, datetime(cutoff.year, cutoff.month, cutoff.day)
        )

    # --- reading --------------------------------------------------------------------------

    def entries(
        self, *, action: str | Collection[str] | None = None, since: date | None = None, last: int | None = None
    ) -> list[AuditEntry]:
        """Rows in the order written, optionally of one action (or several), from a day on, the last ``last``."""
        start = datetime(since.year, since.month, since.day) if since else None
        return [
            AuditEntry(
                at=row.at.replace(tzinfo=UTC),
                action=row.action,
                record_id=row.record_id,
                device=row.device,
                detail=row.detail,
            )
            for row in self._store.audit_rows(action, start, last)
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

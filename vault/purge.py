"""The unattended retention purge and the lifecycle rules, in one place.

The purge needs no passphrase.  It works on plaintext metadata only: record
id, retention end, hold flag, meta version and the Ed25519 signature over
them (``vault.records.meta_message``).  A row whose signature does not verify
under the vault's public verify key was tampered with (or damaged): it is
refused, reported and left alone, never silently deleted.

Lifecycle rules (issue 5):

* a record is purged the day after its signed retention end, restricted or not;
* a legal hold blocks the purge until released;
* a withdrawn consent leaves a minimal proof, or restricts the record under
  the duty that still runs; an erasure request under a duty or hold sets the
  signed end to the day the last duty ends (``vault.rights``), so this purge
  completes it, and its audit row says so;
* review dates that have passed are listed for the owner, never acted on.

Steps of a purge run (DESIGN.md, Purge; notes/security-and-sync.md, 2 and 3):

1. take the exclusive lock file beside the vault (bounded wait, else
   :class:`~vault.errors.VaultBusy`); when the caller pinned the verify key's
   fingerprint (the schedule does), refuse a vault whose key differs;
2. in ONE transaction (BEGIN IMMEDIATE): select expired, unheld rows, verify
   each signature, delete the good ones, write tombstones (unsigned: the
   record's own signed retention end justifies them; ``retention_end`` is
   kept in the row) and ``purged`` audit rows, ``purge-refused`` audit rows for
   bad signatures, and one ``push-pending`` row;
3. erase for real: ``wal_checkpoint(TRUNCATE)``, ``VACUUM``, checkpoint again
   (``secure_delete=ON`` is set on every connection by the engine).  This runs
   on every non-dry run, not only when something was deleted: it also clears
   old page images that edits left in the WAL, and finishes an erasure that an
   earlier run could not complete;
4. :func:`after_purge`: push a fresh blob when sync is configured (else the push stays pending).

Records about the records (issue 11, 15): the audit log, tombstones and closed
requests are kept ``keep_years`` (config ``log_retention_years``, default 3)
after the END of the year of the event or of closing, like the limitation
period of §§195, 199 BGB: a row of 2022-03-10 is kept through 2025-12-31 and
dropped from 2026-01-01 (:func:`records_kept_until`).  Between steps 2 and 3
the purge deletes, in one more transaction under the same lock, the audit rows
and closed requests past that (a request's notes are sealed inside its row and
go with it), and writes one ``records-expired`` audit row with the counts; the
scrub of step 3 then erases them for real.  The newest ``push-pending`` and
``synced`` rows are kept whatever their age: they say whether the remote copy
still holds purged records.

Tombstones are NOT deleted here.  Each carries a version the signed manifest
(vault.head) also holds, and unlock reports a manifest id with neither a row nor
a tombstone as "missing"; the passphrase-less purge cannot re-sign the manifest,
and letting an unsigned marker excuse a missing record would let anyone who can
edit the file hide a deletion.  So expired tombstones are dropped at the next
unlock (vault.book, ``RecordBook.load``), together with their manifest entries
in one re-signed head; afterwards a row replayed for such a record is "not in the
manifest", hence stale, and still refused.  The purge report counts the
tombstones waiting for that (``tombstones_due``).

The purge receives a :class:`PurgeTarget` (store, audit log, clock, and two
callbacks), never the facade.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from vault.audit import AuditLog
from vault.clock import naive_utc
from vault.errors import StorageFull, VaultBusy, VaultError, VaultTampered
from vault.head import Pins, fingerprint, verified_manifest
from vault.i18n import N_
from vault.lockfile import DEFAULT_WAIT_SECONDS, exclusive, lock_path_for
from vault.retention import purge_from
from vault.sealing import signature_ok
from vault.store.purging import ACTION_EXPIRED as ACTION_EXPIRED  # the keeping rule, re-exported
from vault.store.purging import DEFAULT_LOG_RETENTION_YEARS as DEFAULT_LOG_RETENTION_YEARS
from vault.store.purging import delete_expired, drop_old_records, ending_by, reviews_before
from vault.store.purging import records_cutoff as records_cutoff
from vault.store.purging import records_kept_until as records_kept_until
from vault.store.repository import Store

REASON_PURGED = "purged"
REASON_WITHDRAWN = "withdrawn"
ACTION_REFUSED = "purge-refused"
ACTION_PUSH_PENDING = "push-pending"
ACTION_SYNCED = "synced"  # written by vault.sync; detail "push N" once the remote copy is updated


class VerifyKeyChanged(VaultTampered):
    """The vault's verify key differs from the one pinned by `sealbook schedule install`; nothing was deleted (replaced the vault on purpose? install the schedule again)."""  # noqa: E501

    sentence = N_(
        "The vault's verify key differs from the one pinned by `sealbook schedule install`; nothing was deleted "
        "(replaced the vault on purpose? install the schedule again)."
    )


def _check_key(verify_key: bytes, expect_key: str | None) -> None:
    # The verify key lives in the same file an attacker would edit; a key pinned
    # elsewhere (the schedule's unit file) stops a re-keyed, re-signed vault
    # from passing forged retention dates to the unattended purge.
    if expect_key is not None and fingerprint(verify_key) != expect_key.lower():
        raise VerifyKeyChanged()


@dataclass(frozen=True)
class PurgeTarget:
    """What a purge run needs, and nothing more: no key but the public verify key in the file."""

    path: Path
    store: Store
    pins: Pins
    audit: AuditLog
    now: Callable[[], datetime]
    forget: Callable[[str], None]
    """Tells an unlocked instance to stop showing a purged record."""
    push: Callable[[], object | None]
    """Pushes the remote copy when sync is configured (None when it is not); raises VaultError on failure."""
    keep_years: int = DEFAULT_LOG_RETENTION_YEARS
    """Config ``log_retention_years``: how long the audit log and closed requests are kept."""


@dataclass(frozen=True)
class DueRecord:
    """A record the purge would delete (or could not verify): plaintext metadata only."""

    record_id: str
    retention_end: date
    signature_ok: bool


@dataclass(frozen=True)
class PurgedRecord:
    """A record the purge deleted (or, in a dry run, would delete): ids and dates only."""

    record_id: str
    retention_end: date


@dataclass(frozen=True)
class PurgeReport:
    """What one purge run did.  Holds no personal data: safe to log and print."""

    today: date
    dry_run: bool
    purged: tuple[PurgedRecord, ...] = ()
    refused: tuple[str, ...] = ()
    """Record ids whose metadata signature failed: not deleted, an alert for the owner."""
    scrubbed: bool = False
    """True once the freed pages were overwritten and the WAL truncated to 0 bytes."""
    push_pending: bool = False
    """True while the remote copy (if sync is configured) still holds purged records."""
    push_error: str = ""
    """Why the push after the purge failed (the purge itself stands; the next run retries)."""
    push_notes: tuple[str, ...] = ()
    """What the push says the server may still keep (versions, trash bin): no personal data."""
    timings: dict[str, float] = field(default_factory=dict)
    log_rows_dropped: int = 0
    """Audit rows past ``log_retention_years`` that were (in a dry run: would be) deleted."""
    requests_dropped: int = 0
    """Closed requests past ``log_retention_years`` that were (would be) deleted, notes and all."""
    tombstones_due: int = 0
    """Tombstones past ``log_retention_years``: dropped by the next unlock, which re-signs the manifest."""

    @property
    def ok(self) -> bool:
        """True when nothing was refused and (unless a dry run) the erasure completed."""
        return not self.refused and (self.dry_run or self.scrubbed)


@dataclass(frozen=True)
class PreviewRecord:
    """A record the purge will reach soon: the owner may extend, hold or let it go."""

    record_id: str
    retention_end: date
    purge_from: date
    hold: bool


@dataclass(frozen=True)
class ReviewDue:
    """A record whose review date has passed: listed for the owner, never auto-deleted."""

    record_id: str
    review_at: date
    retention_end: date | None


def wal_is_empty(vault_path: Path) -> bool:
    """True when the vault's write-ahead log is absent or truncated to zero bytes."""
    wal = vault_path.with_name(vault_path.name + "-wal")
    try:
        return wal.stat().st_size == 0
    except FileNotFoundError:
        return True


# --- the purge ---------------------------------------------------------------------


def due_records(store: Store, pins: Pins, today: date) -> list[DueRecord]:
    """Records whose signed retention end lies before ``today`` and with no hold, each
    verified (signature, and the newest version by the signed manifest)."""
    with store.session() as s:
        manifest = verified_manifest(s, store, pins, require_pin=True)
    meta = store.read_meta()
    return [
        DueRecord(
            row.id,
            row.retention_end,
            manifest.get(row.id) == row.meta_version
            and signature_ok(
                meta.verify_key,
                meta.vault_id,
                row.id,
                row.retention_end,
                bool(row.hold),
                row.meta_version,
                row.meta_sig,
                row.history,
            ),
        )
        for row in store.due_rows(today)
        if row.retention_end is not None
    ]


def dry_run(target: PurgeTarget, today: date, *, expect_key: str | None = None) -> PurgeReport:
    """What a purge on ``today`` would delete and refuse; writes nothing, takes no lock."""
    store = target.store
    _check_key(store.read_meta().verify_key, expect_key)  # the key due_records verifies with
    due = due_records(store, target.pins, today)
    log_rows, requests, tombstones = _drop_old_records(store, today, target.keep_years, None, "", dry_run=True)
    return PurgeReport(
        today=today,
        dry_run=True,
        purged=tuple(PurgedRecord(d.record_id, d.retention_end) for d in due if d.signature_ok),
        refused=tuple(d.record_id for d in due if not d.signature_ok),
        log_rows_dropped=log_rows,
        requests_dropped=requests,
        tombstones_due=tombstones,
    )


def _drop_old_records(
    store: Store, today: date, keep_years: int, now: datetime | None, device: str, *, dry_run: bool = False
) -> tuple[int, int, int]:
    return drop_old_records(
        store,
        records_cutoff(today, keep_years),
        keep_newest=(ACTION_PUSH_PENDING, ACTION_SYNCED),
        now=now or datetime.min,
        device=device,
        action=ACTION_EXPIRED,
        dry_run=dry_run,
    )


def run(
    target: PurgeTarget, today: date, *, wait: float = DEFAULT_WAIT_SECONDS, expect_key: str | None = None
) -> PurgeReport:
    """Purge every expired, unheld record with a valid signature; see the module docstring.

    Raises :class:`~vault.errors.VaultBusy` when the lock file or the database
    stays taken for longer than ``wait`` (resp. SQLite's busy timeout) before
    anything was deleted.  A busy database *after* the deletion committed does
    not raise: the report says ``scrubbed=False`` and the next run finishes it.
    """
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with exclusive(lock_path_for(target.path), wait=wait):
        timings["lock"] = time.perf_counter() - started
        mark = time.perf_counter()
        purged, refused = _purge_transaction(target, today, expect_key)
        timings["transaction"] = time.perf_counter() - mark
        mark = time.perf_counter()
        log_rows, requests, tombstones = _drop_old_records(
            target.store, today, target.keep_years, naive_utc(target.now()), target.audit.device
        )
        timings["records"] = time.perf_counter() - mark
        mark = time.perf_counter()
        scrubbed = _scrub(target)
        timings["scrub"] = time.perf_counter() - mark
        for record in purged:
            target.forget(record.record_id)  # an unlocked instance stops showing them at once
        report = PurgeReport(
            today=today,
            dry_run=False,
            purged=purged,
            refused=refused,
            scrubbed=scrubbed,
            push_pending=bool(purged) or _push_is_pending_or_unknown(target.audit),
            timings=timings,
            log_rows_dropped=log_rows,
            requests_dropped=requests,
            tombstones_due=tombstones,
        )
        report = after_purge(target, report)
    timings["total"] = time.perf_counter() - started
    return report


def _purge_transaction(
    target: PurgeTarget, today: date, expect_key: str | None
) -> tuple[tuple[PurgedRecord, ...], tuple[str, ...]]:
    store = target.store
    meta = store.read_meta()
    _check_key(meta.verify_key, expect_key)

    def verify(record_id: str, end: date, hold: bool, meta_version: int, signature: bytes, history: bytes) -> bool:
        return signature_ok(meta.verify_key, meta.vault_id, record_id, end, hold, meta_version, signature, history)

    purged, refused = delete_expired(
        store,
        today,
        verify,
        manifest_of=lambda s: verified_manifest(s, store, target.pins, require_pin=True),
        now=naive_utc(target.now()),
        device=target.audit.device,
        purged_action=REASON_PURGED,
        refused_action=ACTION_REFUSED,
        pending_action=ACTION_PUSH_PENDING,
    )
    return tuple(PurgedRecord(record_id, end) for record_id, end in purged), tuple(refused)


def _scrub(target: PurgeTarget) -> bool:
    """checkpoint(TRUNCATE), VACUUM, checkpoint; True when the WAL ended up empty.

    The deletion has committed by now, so a busy database or a disk too full
    for VACUUM is reported (``scrubbed=False``; the next run retries), not raised.
    """
    try:
        target.store.scrub()
    except (VaultBusy, StorageFull):
        return False
    return wal_is_empty(target.path)


def push_is_pending(audit: AuditLog) -> bool:
    """True when a purge happened after the last successful push of the remote copy."""
    pending = audit.entries(action=ACTION_PUSH_PENDING)
    if not pending:
        return False
    pushes = [a for a in audit.entries(action=ACTION_SYNCED) if a.detail.startswith("push")]
    return not pushes or pushes[-1].at < pending[-1].at


def _push_is_pending_or_unknown(audit: AuditLog) -> bool:
    try:
        return push_is_pending(audit)
    except VaultBusy:
        return True


def after_purge(target: PurgeTarget, report: PurgeReport) -> PurgeReport:
    """Runs after every real purge, still under the lock: update the remote copy.

    When sync is configured, ``target.push`` pushes a fresh blob (it needs only
    the sync public key, so no passphrase) and records a ``synced`` audit row
    ("push N"), which clears the pending push.  Without sync, or when the push
    fails, the ``push-pending`` row written by the purge transaction stands and
    the next run tries again.  A failed push never undoes or fails the purge:
    the report carries the reason in ``push_error``.
    """
    if not report.push_pending:
        return report
    try:
        pushed = target.push()
    except VaultError as error:
        return replace(report, push_error=str(error))
    if pushed is None:
        return report  # sync not configured: the push stays pending
    return replace(report, push_pending=False, push_notes=tuple(getattr(pushed, "notes", ())))


# --- previews and reviews -------------------------------------------------------------


def preview(store: Store, today: date, days: int = 30) -> list[PreviewRecord]:
    """Records the purge deletes within ``days`` days from ``today`` (already-due ones included).

    Held records are listed with ``hold=True``: they stay until released.
    """
    last = date.fromordinal(today.toordinal() + max(days, 0) - 1)
    out = []
    for record_id, end, hold in ending_by(store, last):
        start = purge_from(end)
        if end is not None and start is not None:
            out.append(PreviewRecord(record_id, end, start, bool(hold)))
    return out


def overdue_reviews(store: Store, today: date) -> list[ReviewDue]:
    """Records whose review date lies before ``today``, oldest first.  Nothing is deleted."""
    rows = reviews_before(store, today)
    return [ReviewDue(record_id, review, end) for record_id, review, end in rows if review is not None]

"""The record book: the decrypted contacts of an unlocked vault and every write to them.

It keeps the contacts in memory (decoded lazily from the sealed index cache,
see vault.index), answers lookups and searches, and writes rows through one
transaction per change: sealed row, audit row and the re-sealed index buckets
commit together, and memory follows only after the commit.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from vault import causal, crypto, head, i18n, rowopen, rowscan
from vault import index as cache
from vault.audit import AuditLog
from vault.clock import Clock, local_today, naive_utc
from vault.errors import ContactNotFound, InvalidInput, VaultBusy, VaultDamaged
from vault.hardening import return_free_memory
from vault.head import Pins
from vault.keyring import KeyRing
from vault.model import Contact
from vault.records import meta_message, tombstone_message
from vault.rowbatch import Change, Writer
from vault.sealing import RecordSealer
from vault.search import by_name, clear_caches, contact_keys, matches, parse_query
from vault.store.keeping import DEFAULT_LOG_RETENTION_YEARS, records_cutoff
from vault.store.models import ContactRow, TombstoneRow, index_bucket
from vault.store.purging import ACTION_EXPIRED
from vault.store.repository import SealedRow, Store

Also = Callable[[Session], None]  # more work inside a write's transaction (e.g. the suppression list)


class RecordBook:
    """The contacts of one vault: load, look up, search, add, rewrite, delete."""

    def __init__(
        self,
        store: Store,
        ring: KeyRing,
        audit: AuditLog,
        clock: Clock,
        pins: Pins,
        *,
        keep_years: int = DEFAULT_LOG_RETENTION_YEARS,
    ) -> None:
        self._store = store
        self.keep_years = keep_years
        """Config ``log_retention_years``: tombstones older than this are dropped at load (see vault.purge)."""
        self._ring = ring
        self._pins = pins
        self._audit = audit
        self._clock = clock
        self.sealer = RecordSealer(ring)
        # id -> Contact, decoded lazily from the index cache; its .keys are the search keys.
        self._contacts = cache.ContactIndex()
        self._damaged: set[str] = set()
        self._data_version = 0

    # --- memory -------------------------------------------------------------------

    def mark_damaged(self, ids: Iterable[str]) -> None:
        """Records that must not be shown or used (stale or planted rows): listed by id only."""
        for record_id in ids:
            self._contacts.discard(record_id)
            self._contacts.dirty.add(index_bucket(record_id))
            self._damaged.add(record_id)

    def clear(self, free_later: list[object] | None = None) -> None:
        """Drop every decrypted contact (and cached name fragments): the vault was locked.  ``free_later``
        gets the dropped index, for a front end to free after its next frame (~60 ms at 100k: issue 15)."""
        dropped, self._contacts = self._contacts, cache.ContactIndex()
        if free_later is not None:
            free_later.append(dropped)
        self._damaged = set()
        clear_caches()

    @property
    def damaged_ids(self) -> tuple[str, ...]:
        """Records that failed authentication at the last load (ids only)."""
        return tuple(sorted(self._damaged))

    def __len__(self) -> int:
        return len(self._contacts)

    def forget(self, record_id: str) -> None:
        """Stop showing a record that was deleted (by a purge, a pull, another process);
        its index bucket is re-sealed by the next write."""
        self._contacts.discard(record_id)
        self._contacts.dirty.add(index_bucket(record_id))
        self._damaged.discard(record_id)

    def local(self, record_id: str) -> Contact | None:
        """The decrypted contact, or None when it is not loaded."""
        return self._contacts.get(record_id)

    # --- loading --------------------------------------------------------------------

    def load(self, pins: Pins) -> None:
        """(Re)load every record; records that fail go to :attr:`damaged_ids`.

        First the signed head is checked (vault.head; VaultTampered when it fails):
        rows that are not the newest version by the manifest, and records that
        vanished without a tombstone, are listed as damaged and not shown.

        Every row is read and tagged, but only rows the sealed index cache does
        not vouch for (changed, new, or damaged since the cache was written) are
        decrypted one by one; the others come from the cache's buckets, a few
        hundred AEAD openings in all (see vault.index).  Buckets found stale are
        re-sealed afterwards, if the vault is not busy.
        """
        keys = self._ring.keys
        # At scale a second process reads and tags the rows meanwhile (vault.rowscan).
        scan = rowscan.start(self._store.path, keys.row_tag, self._store.row_estimate())
        try:
            self._load(pins, scan)
        finally:
            if scan is not None:
                scan.close()
        return_free_memory()  # of all the load made and dropped: ~60 MB at 100k records

    def _load(self, pins: Pins, scan: rowscan.Scan | None) -> None:
        keys = self._ring.keys
        manifest, tombstones = self._check_head(pins)
        versions: dict[str, int] = {}
        self._data_version = self._store.data_version()
        index = cache.ContactIndex()
        self._contacts, self._damaged = index, set()
        vault_id = self._ring.vault_id
        # The loop allocates hundreds of thousands of long-lived objects and no
        # cycles; the cyclic collector would rescan the growing heap again and
        # again (about an eighth of the time at 100k records).
        collecting = gc.isenabled()
        gc.disable()
        try:
            for bucket, sealed in self._store.index_buckets():
                if not index.open_unchecked(keys.index, vault_id, bucket, sealed):
                    index.dirty.add(bucket)  # never trusted: rebuilt from the rows below
            # Every entry is checked against its row before this method returns;
            # those that fail are dropped (a failure on the way drops them all).
            entry_of = index.keys.get
            matched = 0
            stale: list[str] = []
            # Every row's tag, from the second process or (small vault, or it failed) from here.
            scanned = scan.result() if scan is not None else None
            ids, tags, stored = scanned or rowscan.row_tags(self._store.contact_checks(), keys.row_tag)
            versions = dict(zip(ids, stored, strict=True))
            for record_id, tag in zip(ids, tags, strict=True):
                entry = entry_of(record_id)
                if entry is not None and entry[cache.TAG] == tag:
                    matched += 1
                else:
                    stale.append(record_id)
            for record_id in stale:
                index.discard(record_id)
                index.dirty.add(index_bucket(record_id))
            if matched != len(index):  # entries of rows gone since (purged elsewhere)
                present = self._store.contact_versions()
                for record_id in [rid for rid in index if rid not in present]:
                    index.discard(record_id)
            if stale:  # many (a fresh clone, a lost cache) are shared with a second core
                keys, total = self._ring.keys, len(ids)
                rowopen.open_shared(
                    stale, dict(zip(ids, tags, strict=True)), lambda part: self._open_rows(part, total),
                    self._contacts.adopt, self._store.path, (keys.records, keys.row_tag, self._ring.vault_id),
                )  # fmt: skip
        except BaseException:
            self._contacts = cache.ContactIndex()
            raise
        finally:
            if collecting:
                gc.enable()
        if manifest is not None:
            findings = head.compare(manifest, versions, tombstones)
            self.mark_damaged(findings.stale | findings.missing)
        self._flush_index()

    def _open_rows(self, ids: list[str], total: int) -> None:
        """Open the rows with ``ids`` (of ``total`` rows: reading all of them is faster than
        picking out more than half)."""
        if not ids:
            return
        everything = len(ids) * 2 > total
        rows = self._store.contact_columns(None if everything else ids)
        if everything:
            wanted = set(ids)
            rows = [row for row in rows if row.id in wanted]
        rows.reverse()

        def drain() -> Iterable[Any]:  # frees each row's ciphertext once it is opened
            while rows:
                yield rows.pop()

        self.absorb(drain(), flush=False)

    def _check_head(self, pins: Pins) -> tuple[dict[str, int] | None, dict[str, int]]:
        """Verify the signed head (VaultTampered when it fails) and return the manifest
        with the tombstones' versions; the first unlock of a vault without a head (made
        before heads existed, or a fresh clone) seals one instead and returns None."""
        with self._store.session() as s:
            meta = self._store.meta_in(s)
            if meta.head_sig is None:
                epoch = head.seal_first(s, self._store, self.sealer.sign)
                manifest = None
            else:
                manifest = head.verified_manifest(s, self._store, pins)
                epoch = self._expire_tombstones(s, manifest) or meta.head_epoch
            tombstones = self._store.tombstone_versions_in(s)
        pins.pin(self._ring.verify_key, self._ring.device_id, epoch)
        return manifest, tombstones

    def _expire_tombstones(self, s: Session, manifest: dict[str, int]) -> int | None:
        """Drop tombstones past ``keep_years`` (vault.purge.records_kept_until) and their
        manifest entries (kept as "gone": id and negated version only), re-signing the head in
        the caller's transaction; returns the new epoch, or None when nothing expired.

        The passphrase-less purge cannot re-sign the manifest, so this happens here, at unlock.
        Only tombstones of the manifest's version whose record has no row are dropped; a row
        that turns up later for a dropped id does not match its entry: stale, refused.
        """
        start = records_cutoff(local_today(self._clock), self.keep_years)
        expired = self._store.expired_tombstones_in(s, datetime(start.year, start.month, start.day))
        dropped = [rid for rid, version in expired.items() if manifest.get(rid) == version]
        if not dropped:
            return None
        self._store.delete_tombstones(s, dropped)
        self._audit.add(s, ACTION_EXPIRED, None, f"tombstones={len(dropped)}")
        # Kept as "gone" (id, version negated): a device offline for longer cannot sync it back.
        gone = {rid: -manifest[rid] for rid in dropped if rid in manifest}
        manifest.update(gone)
        changes: dict[str, int | None] = dict(gone)
        return head.reseal(s, self._store, self.sealer.sign, changes) if changes else None

    def absorb(self, rows: Iterable[SealedRow], *, flush: bool = True) -> None:
        """Open rows one by one (new or changed ones: refresh, sync, a stale cache).

        With ``flush`` the index buckets they belong to are re-sealed afterwards.
        """
        tagger = crypto.row_tagger(self._ring.keys.row_tag)
        for row in rows:
            try:
                contact = self.sealer.open(row)
            except VaultDamaged:
                self._damaged.add(row.id)
                self._contacts.discard(row.id)
                self._contacts.dirty.add(index_bucket(row.id))
                continue
            self._damaged.discard(row.id)
            tag = cache.contact_tag(tagger, contact, row.meta_sig, row.sealed)
            self._contacts.put(contact, tag, contact_keys(contact))
        if flush:
            self._flush_index()

    def refresh(self) -> bool:
        """Pick up commits made by other processes (purge, CLI); True if anything changed."""
        self._ring.require_unlocked()
        version = self._store.data_version()
        if version == self._data_version:
            return False
        previous, self._data_version = self._data_version, version
        try:
            stored = self._store.contact_versions()
            known = self._contacts.versions()
            gone = (set(known) | self._damaged) - set(stored)
            for record_id in gone:
                self.forget(record_id)
            changed = [cid for cid, v in stored.items() if known.get(cid) != v]
            # No index write here: refresh runs on the TUI's thread and must not wait
            # for a busy vault; stale buckets are re-sealed by the next write.
            self.absorb(self._store.contact_columns(changed) if changed else [], flush=False)
        except VaultBusy:
            self._data_version = previous  # not read: the next call asks again
            raise
        return bool(gone or changed)

    # --- the index cache --------------------------------------------------------------

    def _drop_vanished(self, session: Session, buckets: Iterable[int], keep: Iterable[str] = ()) -> None:
        """Inside a write's transaction: records of ``buckets`` that the file no longer holds
        (another process purged or erased them since memory last looked) leave memory
        first, so that no bucket seals them back into the file (issue 12.8)."""
        skip = set(keep)
        ids = [rid for bucket in set(buckets) for rid in list(self._contacts.members(bucket)) if rid not in skip]
        if ids:
            for record_id in set(ids) - self._store.existing_ids(session, ids):
                self.forget(record_id)

    def _write_index(self, session: Session, changes: dict[str, Change]) -> set[int]:
        """Re-seal the buckets of ``changes`` (and any stale ones) inside the caller's transaction."""
        self._drop_vanished(session, {index_bucket(rid) for rid in changes} | self._contacts.dirty, changes)
        pending: dict[int, dict[str, Change]] = {bucket: {} for bucket in self._contacts.dirty}
        for record_id, change in changes.items():
            pending.setdefault(index_bucket(record_id), {})[record_id] = change
        # One bucket at a time: only its entries are made (JSON) and sealed at once (issue 15).
        for bucket, group in sorted(pending.items()):
            overrides = {rid: None if change is None else cache.make_entry(*change) for rid, change in group.items()}
            sealed = cache.sealed_buckets(
                self._contacts, self._ring.keys.index, self._ring.vault_id, [bucket], overrides
            )
            self._store.write_index(session, sealed)
        return set(pending)

    def reseal(self, s: Session, versions: Mapping[str, int | None]) -> int:
        """Record new versions in the signed manifest inside ``s`` (a sync merge); returns the epoch."""
        return head.reseal(s, self._store, self.sealer.sign, versions)

    def pin(self, epoch: int) -> None:
        """After a commit: this device has seen ``epoch``."""
        self._pins.pin(self._ring.verify_key, self._ring.device_id, epoch)

    def _settle(self, changes: dict[str, Change], written: set[int], epoch: int) -> None:
        """After the commit: memory follows what the transaction wrote; the epoch is pinned."""
        self.pin(epoch)
        for record_id, change in changes.items():
            if change is None:
                self.forget(record_id)
            else:
                self._contacts.put(*change)
                self._damaged.discard(record_id)
        self._contacts.dirty -= written

    def _flush_index(self) -> None:
        """Re-seal stale buckets in a transaction of their own; a busy vault just leaves them stale."""
        index = self._contacts
        if not index.dirty or self._ring.is_locked:
            return

        def sealed(s: Session) -> dict[int, bytes | None]:
            self._drop_vanished(s, index.dirty)
            return cache.sealed_buckets(index, self._ring.keys.index, self._ring.vault_id, index.dirty)

        written = self._store.write_index_now(sealed)
        if written is not None:
            index.dirty -= written

    # --- reading ------------------------------------------------------------------------

    def all(self, *, include_restricted: bool = True) -> list[Contact]:
        """Every readable contact, sorted by name."""
        self._ring.require_unlocked()
        ordered = self._contacts.by_name()
        return ordered if include_restricted else [c for c in ordered if not c.is_restricted]

    def unsorted(self) -> list[Contact]:
        self._ring.require_unlocked()
        return self._contacts.all()

    def search(self, query: str, *, include_restricted: bool = False) -> list[Contact]:
        """Case-, accent- and spelling-insensitive substring search (see vault.search)."""
        self._ring.require_unlocked()
        parsed = parse_query(query)
        index = self._contacts
        return by_name(
            index[cid]
            for cid, keys in index.keys.items()
            if matches(parsed, keys) and (include_restricted or not index[cid].is_restricted)
        )

    def search_keys(self) -> Mapping[str, Sequence[str]]:
        """The precomputed search keys by record id: items 0 and 1 of each value are
        the text and digits haystacks (front ends may filter incrementally)."""
        self._ring.require_unlocked()
        return self._contacts.keys

    def get(self, record_id: str) -> Contact:
        self._ring.require_unlocked()
        if record_id in self._damaged:
            raise VaultDamaged(i18n._("record {id}").format(id=record_id))
        try:
            return self._contacts[record_id]
        except KeyError:
            raise ContactNotFound(record_id) from None

    def resolve(self, prefix: str) -> Contact:
        """A contact by its id or an unambiguous id prefix (at least 4 characters)."""
        self._ring.require_unlocked()
        if prefix in self._contacts or prefix in self._damaged:
            return self.get(prefix)
        if len(prefix) >= 4:
            hits = [cid for cid in (*self._contacts, *self._damaged) if cid.startswith(prefix)]
            if len(hits) == 1:
                return self.get(hits[0])
            if len(hits) > 1:
                raise InvalidInput("id", i18n._("prefix {prefix} is ambiguous").format(prefix=prefix))
        raise ContactNotFound(prefix)

    # --- writing -------------------------------------------------------------------------

    def insert(self, contacts: Sequence[Contact], action: str) -> list[Contact]:
        """Store new contacts in one transaction: all or nothing; returns them as stored."""
        contacts = [self.first_version(contact) for contact in contacts]
        changes: dict[str, Change] = {}
        with self._store.session() as s:
            self._writer().add(s, contacts, action, changes)
            written = self._write_index(s, changes)
            epoch = head.reseal(s, self._store, self.sealer.sign, {c.id: c.meta_version for c in contacts})
        self._settle(changes, written, epoch)
        return contacts

    def _writer(self) -> Writer:
        return Writer(self._store, self.sealer, self._audit, self._ring.keys.row_tag)

    def first_version(self, contact: Contact) -> Contact:
        """A new record's first version: written by this device once."""
        return contact if contact.history else replace(contact, history=causal.bump(b"", self._ring.device_id))

    def rewrite(
        self, current: Contact, new: Contact, action: str, detail: str = "", *, also: Also | None = None
    ) -> Contact:
        """Replace ``current`` with ``new`` (version + 1, re-signed, re-sealed)."""
        return self.rewrite_many(
            [(current, new)], action, detail, also=also,
            conflict=i18n._("the contact was changed elsewhere; reload and try again"),
        )[0]  # fmt: skip

    def rewrite_many(
        self,
        pairs: Sequence[tuple[Contact, Contact]],
        action: str,
        detail: str = "",
        *,
        conflict: str,
        added: Sequence[Contact] = (),
        added_action: str = "",
        also: Also | None = None,
    ) -> list[Contact]:
        """Rewrite several contacts (and add ``added``) in one transaction.

        Each rewrite refuses (VaultError ``conflict``) when another process changed
        the row since it was read; nothing is written then.
        """
        now = naive_utc(self._clock())
        new = [replace_version(old, fresh, now, self._ring.device_id) for old, fresh in pairs]
        added = [self.first_version(contact) for contact in added]
        changes: dict[str, Change] = {}
        with self._store.session() as s:
            # Sealed, written and audited a chunk at a time, in bulk (vault.rowbatch, issue 15).
            writer = self._writer()
            writer.add(s, added, added_action, changes)
            writer.rewrite(s, pairs, new, self._ring.device_id, (action, detail), conflict, changes)
            if also is not None:
                also(s)
            written = self._write_index(s, changes)
            versions = {rid: change[0].meta_version for rid, change in changes.items() if change is not None}
            epoch = head.reseal(s, self._store, self.sealer.sign, versions)
        self._settle(changes, written, epoch)
        return new

    def delete(self, ids: Sequence[str], *, reason: str, detail: str = "", also: Also | None = None) -> None:
        """Delete rows for good with signed tombstones, then scrub the file."""
        now = naive_utc(self._clock())
        changes: dict[str, Change] = dict.fromkeys(ids)
        versions: dict[str, int | None] = {}
        vault_id = self._ring.vault_id
        with self._store.session() as s:
            for record_id in ids:
                row = s.get(ContactRow, record_id)
                if row is None:
                    raise ContactNotFound(record_id)
                s.delete(row)
                message = tombstone_message(vault_id, record_id, reason, now, row.meta_version)
                meta_sig = row.meta_sig
                if row.hold:  # a release that completes an erasure: the deleted version is the released one
                    meta_sig = self.sealer.sign(
                        meta_message(vault_id, record_id, row.retention_end, False, row.meta_version, row.history)
                    )
                s.merge(
                    TombstoneRow(
                        id=record_id,
                        deleted_at=now,
                        reason=reason,
                        retention_end=row.retention_end,
                        signature=self.sealer.sign(message),
                        meta_version=row.meta_version,
                        meta_sig=meta_sig,
                        history=row.history,
                    )
                )
                self._audit.add(s, reason, record_id, detail)
                versions[record_id] = row.meta_version  # the manifest keeps it: the tombstone carries it
            if also is not None:
                also(s)
            written = self._write_index(s, changes)  # the index keeps no copy of them
            epoch = head.reseal(s, self._store, self.sealer.sign, versions)
        self._settle(changes, written, epoch)
        self._store.scrub()


def replace_version(current: Contact, new: Contact, now: datetime, device_id: str) -> Contact:
    """``new`` as the next version of ``current``, updated ``now`` on ``device_id``
    (its causal history is ``current``'s plus one write by this device)."""
    return replace(
        new, meta_version=current.meta_version + 1, updated=now, history=causal.bump(current.history, device_id)
    )

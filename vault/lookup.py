"""The one-shot read path: `sealbook find` without loading the record book (issue 15).

A `find` unlocks, searches and exits.  Through the facade that is: import the
ORM, Alembic and every job; check the revision with Alembic; read every row
and decode the whole sealed index into memory; then search it.  Here the same
checks run on the same bytes, read once with ``sqlite3`` (vault.store.reader):

* the file, its schema (no planted triggers or objects) and its revision;
* the key header: pinned verify key, KDF caps, checksum, passphrase, keys
  (vault.keyring.open_header);
* the signed head over the manifest and this device's epoch (vault.head);
* every row against its sealed index entry, by the keyed row tag, exactly as
  vault.book loads them; every bucket must authenticate;
* the rows against the manifest (vault.head.compare).

The buckets are opened one at a time: a bucket no query word occurs in is
read for its entries' ids and tags only; the others are searched; only the
hits are decoded into contacts.  On a large vault a second process tags the
rows meanwhile (vault.rowscan), so both cores work.

It answers only when everything is as the last unlocked write left it, so its
answer is the facade's answer.  Anything else (a migration due, a head not yet
sealed, tombstones to expire, a device that never kept the audit key, a bucket
that does not open, a row the index does not vouch for, a damaged or stale
record, any error at all) returns None *without having written anything*, and
the caller goes through the facade, which repairs, reports or refuses as it
always did.  Wrong passphrases and refused KDF costs are the exception: those
the facade would raise the same way, after the same checks, so they are raised
here (and the KDF is not paid twice).

Like an unlock it pins the head's epoch and keeps the push and audit keys in
this device's state folder.  It writes nothing to the vault file.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from vault import crypto, head, keyring, rowscan
from vault import index as cache
from vault.auditkey import AuditKeyFile, audit_key
from vault.clock import Clock, local_today, utc_now
from vault.errors import KdfParametersRefused, WrongPassphrase
from vault.model import Contact
from vault.records import FORMAT_VERSION
from vault.search import by_name, clear_caches, could_match, matches, parse_query
from vault.store.keeping import DEFAULT_LOG_RETENTION_YEARS, records_cutoff
from vault.store.reader import MetaRecord, Reader


@dataclass(frozen=True)
class Found:
    """What `find` shows: the matching contacts by name, and the damaged record ids (none
    here: a vault with damaged records goes through the facade, which names them)."""

    contacts: list[Contact]
    damaged_ids: tuple[str, ...]
    kdf: crypto.KdfParams

    @property
    def kdf_below_floor(self) -> bool:
        return crypto.is_below_floor(self.kdf)


class _Unclean(Exception):
    """The vault needs more than a read: the facade's unlock must handle it."""


class Lookup:
    """One vault file opened for one search: :meth:`open`, :meth:`find`, :meth:`close`.

    :meth:`open` makes the checks the facade makes before it asks for the passphrase,
    so a front end asks for it only when this path may answer.
    """

    def __init__(self, reader: Reader) -> None:
        self._reader = reader

    @classmethod
    def open(cls, path: Path) -> Lookup | None:
        """The vault at ``path`` ready for :meth:`find`, or None: then use the facade."""
        if not path.is_file():
            return None
        try:
            reader = Reader(path)
        except Exception:  # the facade says what is wrong with the file, in its words
            return None
        try:
            if reader.at_head:
                with reader:
                    _checked_meta(reader)
                return cls(reader)
        except Exception:  # noqa: S110 - the facade words it
            pass
        reader.close()
        return None

    def close(self) -> None:
        self._reader.close()

    def __enter__(self) -> Lookup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def find(
        self,
        passphrase: str,
        query: str,
        *,
        include_restricted: bool = False,
        keep_years: int = DEFAULT_LOG_RETENTION_YEARS,
        clock: Clock = utc_now,
    ) -> Found | None:
        """The contacts matching ``query`` (vault.search), as ``Vault.unlock`` then ``Vault.search``
        would give them, or None when only the facade can answer (see the module docstring).

        ``keep_years`` is the config's ``log_retention_years`` (as ``Vault`` passes it on).
        Raises WrongPassphrase or KdfParametersRefused as the facade's unlock does.
        """
        try:
            with self._reader:  # one snapshot for every read, the key header included
                return _find(self._reader, passphrase, query, include_restricted, keep_years, clock)
        except (WrongPassphrase, KdfParametersRefused):
            raise
        except Exception:  # _Unclean, or anything the facade words (tampered, damaged, busy) or repairs
            return None
        finally:
            clear_caches()  # the query's folded words


def _checked_meta(reader: Reader) -> tuple[MetaRecord, head.Pins, AuditKeyFile]:
    """The key header, if this path may answer for it (else _Unclean), with the device's pins and audit key file."""
    meta = reader.meta()
    if meta is None or meta.format_version != FORMAT_VERSION or meta.head_sig is None:
        raise _Unclean()  # not a vault, another format, or a head the first unlock seals
    pins = head.Pins(meta.vault_id)
    audit_file = AuditKeyFile(meta.vault_id.hex(), meta.device_id)
    if audit_file.load() is None:
        raise _Unclean()  # the first unlock on this device seals the older audit rows
    return meta, pins, audit_file


def _find(
    reader: Reader, passphrase: str, query: str, include_restricted: bool, keep_years: int, clock: Clock
) -> Found:
    meta, pins, audit_file = _checked_meta(reader)
    pins.check_key(meta.verify_key)  # as Vault.derive_keys: before "wrong passphrase" can mislead
    root, signing, sync_secret = keyring.open_header(meta, passphrase)
    index_key, tag_key = keyring.index_key(root), keyring.row_tag_key(root)
    try:
        contacts = _search(reader, meta, pins, index_key, tag_key, query, clock, keep_years)
        # What every unlock keeps on this device (Vault.unlock: the push key, the audit key).
        from vault.sync.state import PushKeyFile

        push = keyring.push_key(root)
        try:
            PushKeyFile(meta.vault_id.hex(), meta.device_id).save(push)
        finally:
            crypto.wipe(push)
        try:
            audit_file.save(audit_key(root))
        except OSError:
            pass  # as AuditLog.keep_key: tried again at the next unlock
    finally:
        for key in (root, signing, sync_secret, index_key, tag_key):
            crypto.wipe(key)
    shown = [c for c in contacts if include_restricted or not c.is_restricted]
    return Found(by_name(shown), (), keyring.kdf_of(meta))


def _search(
    reader: Reader,
    meta: MetaRecord,
    pins: head.Pins,
    index_key: bytearray,
    tag_key: bytearray,
    query: str,
    clock: Clock,
    keep_years: int,
) -> list[Contact]:
    """RecordBook.load's checks (vault.book), read-only, then the search over the checked entries."""
    # The rows' tags: by a second process, if there is a core for it, while this one checks the head
    # and opens the buckets (vault.rowscan).
    scan = rowscan.start(reader.path, tag_key, reader.row_estimate())
    try:
        return _search_with(reader, meta, pins, index_key, tag_key, query, clock, keep_years, scan)
    finally:
        if scan is not None:
            scan.close()


def _search_with(
    reader: Reader,
    meta: MetaRecord,
    pins: head.Pins,
    index_key: bytearray,
    tag_key: bytearray,
    query: str,
    clock: Clock,
    keep_years: int,
    scan: rowscan.Scan | None,
) -> list[Contact]:
    manifest = head.checked_manifest(meta, reader.manifest_rows, pins)
    start = records_cutoff(local_today(clock), keep_years)
    expired = reader.expired_tombstones(datetime(start.year, start.month, start.day))
    if any(manifest.get(rid) == version for rid, version in expired.items()):
        raise _Unclean()  # the unlock drops them and re-signs the head
    pins.pin(meta.verify_key, meta.device_id, meta.head_epoch)

    parsed = parse_query(query)
    tags: dict[str, str] = {}
    hits: dict[str, cache.Entry] = {}
    collecting = gc.isenabled()
    gc.disable()  # many long-lived objects, no cycles (as RecordBook.load)
    try:
        for bucket, sealed in reader.index_buckets():
            text = cache.bucket_text(index_key, meta.vault_id, bucket, sealed)
            if text is None:
                raise _Unclean()  # the unlock rebuilds it from the rows
            # Most buckets cannot hold a hit (one search per query word over the whole text):
            # their entries are read for the tags only, their texts left unsliced.
            candidate = could_match(parsed, text)
            entries = cache.parse_bucket(text) if candidate else cache.bucket_heads(text)
            if entries is None:
                raise _Unclean()
            if not candidate:
                ids = [entry[cache.ID] for entry in entries]
                tags.update(zip(ids, [entry[cache.TAG] for entry in entries], strict=True))
                if hits:
                    for record_id in hits.keys() & set(ids):
                        del hits[record_id]  # a later bucket's entry wins, as in ContactIndex
                continue
            for entry in entries:
                record_id = entry[cache.ID]
                tags[record_id] = entry[cache.TAG]
                if matches(parsed, entry):
                    hits[record_id] = entry
                else:
                    hits.pop(record_id, None)
        scanned = scan.result() if scan is not None else rowscan.row_tags(reader.contact_checks(), tag_key)
    finally:
        if collecting:
            gc.enable()
    if scanned is None:
        raise _Unclean()  # no answer from the second process
    # RecordBook.load keeps an entry only when its row gives the entry's tag, and opens every
    # other row: here every row must have an entry with its tag, and every entry a row.  And
    # head.compare: every row must be of its manifest version ("stale"), and every record
    # of the manifest a row or a tombstone of that version ("missing").
    ids, row_tags, versions = scanned
    signed, unseen, expected = manifest.items(), dict(manifest), tags.pop
    for record_id, tag, version in zip(ids, row_tags, versions, strict=True):
        if expected(record_id, None) != tag or (record_id, version) not in signed:
            raise _Unclean()  # a stale row, or one the index does not vouch for (another snapshot)
        unseen.pop(record_id, None)
    if tags or (unseen and head.compare(unseen, {}, reader.tombstone_versions()).missing):
        raise _Unclean()  # entries without rows, or records gone without a tombstone
    decode = cache.PayloadDecoder()
    return [decode(record_id, entry[cache.PAYLOAD]) for record_id, entry in hits.items()]

"""The Vault facade: the only door front ends use.

It hands out frozen dataclasses (vault.model), never ORM rows or Sessions.
Keys live in bytearrays that :meth:`Vault.lock` overwrites; decrypted
contacts live in memory only while unlocked.
"""

from __future__ import annotations

import gc
import os
import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from vault import crypto
from vault import index as cache
from vault.config import Config
from vault.crypto import KDF_DEFAULT, KDF_FLOOR, KdfParams
from vault.crypto import is_below_floor as kdf_is_below_floor
from vault.errors import (
    ContactNotFound,
    InvalidInput,
    NotAVault,
    VaultDamaged,
    VaultError,
    VaultExists,
    VaultLocked,
    VaultNotFound,
    WrongPassphrase,
)
from vault.model import (
    AuditEntry,
    Contact,
    ContactDraft,
    EraseOutcome,
    EraseResult,
    LegalBasis,
    RetentionRule,
    State,
    normalise_draft,
)
from vault.purge import PreviewRecord, PurgeReport, ReviewDue, signature_ok
from vault.records import (
    FORMAT_VERSION,
    decode_payload,
    encode_payload,
    meta_message,
    record_ad,
    tombstone_message,
)
from vault.retention import purge_from, retention_end, review_date
from vault.search import clear_caches, contact_keys, matches, parse_query
from vault.store.models import AuditRow, ContactRow, TombstoneRow, VaultMetaRow, index_bucket
from vault.store.repository import Store

Clock = Callable[[], datetime]

# Re-exported so front ends can name KDF settings without importing vault.crypto.
__all__ = ["KDF_DEFAULT", "KDF_FLOOR", "Clock", "DueRecord", "KdfParams", "Vault", "kdf_is_below_floor"]

_LABEL_RECORDS = b"records_"
_LABEL_KEYWRAP = b"keywrap_"


def utc_now() -> datetime:
    return datetime.now(UTC)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _rk_ad(meta: VaultMetaRow) -> bytes:
    return crypto.pae(
        b"sealbook-rk-v1",
        meta.format_version,
        meta.vault_id,
        meta.kdf_t,
        meta.kdf_m_kib,
        meta.kdf_p,
        meta.kdf_salt,
        meta.sync_public_key,
        meta.verify_key,
    )


def _key_ad(meta: VaultMetaRow, purpose: str) -> bytes:
    return crypto.pae(b"sealbook-key-v1", meta.vault_id, purpose)


def _header_checksum(meta: VaultMetaRow) -> bytes:
    return crypto.checksum(
        crypto.pae(
            meta.format_version,
            meta.vault_id,
            meta.kdf_t,
            meta.kdf_m_kib,
            meta.kdf_p,
            meta.kdf_salt,
            meta.wrapped_root_key,
            meta.sync_public_key,
            meta.wrapped_sync_secret_key,
            meta.verify_key,
            meta.wrapped_signing_key,
        )
    )


@dataclass(frozen=True)
class DueRecord:
    """A record the purge would delete (or could not verify): plaintext metadata only."""

    record_id: str
    retention_end: date
    signature_ok: bool


@dataclass
class _Keys:
    root: bytearray
    records: bytearray
    signing: bytearray
    sync_secret: bytearray
    index: bytearray  # seals the index cache's buckets
    row_tag: bytearray  # tags rows in the index cache

    def wipe(self) -> None:
        for buffer in (self.root, self.records, self.signing, self.sync_secret, self.index, self.row_tag):
            crypto.wipe(buffer)


# A record's pending state for the index cache: (contact, row tag, search keys), or None when deleted.
_Change = tuple[Contact, str, tuple[str, str]] | None


class Vault:
    """An encrypted contact vault in one SQLite file.

    ``Vault(path)`` opens an existing vault locked: plaintext-metadata work
    (purge selection, the audit log) is possible; everything personal needs
    :meth:`unlock`.  :meth:`Vault.create` makes a new one and returns it unlocked.
    """

    def __init__(self, path: Path, *, config: Config | None = None, clock: Clock = utc_now) -> None:
        self.path = Path(path)
        self.config = config or Config()
        self.rules = self.config.rulebook()
        self._clock = clock
        if not self.path.is_file():
            raise VaultNotFound(str(self.path))
        self._store = Store(self.path)
        try:
            self._meta = self._store.read_meta()
            if self._meta.format_version != FORMAT_VERSION:
                raise NotAVault(f"format {self._meta.format_version}")
        except Exception:
            self._store.close()
            raise
        self._keys: _Keys | None = None
        # id -> Contact, decoded lazily from the index cache; its .keys are the search keys.
        self._contacts = cache.ContactIndex()
        self._keys_index: Mapping[str, Sequence[str]] = self._contacts.keys
        self._damaged: set[str] = set()
        self._data_version = 0

    # --- life cycle ---------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: Path,
        passphrase: str,
        *,
        kdf: crypto.KdfParams | None = None,
        allow_weak_kdf: bool = False,
        config: Config | None = None,
        clock: Clock = utc_now,
    ) -> Vault:
        """Create a new vault at ``path`` (never overwrites) and return it unlocked."""
        path = Path(path)
        if path.exists():
            raise VaultExists(str(path))
        _check_passphrase(passphrase)
        kdf = kdf or crypto.calibrate()
        crypto.check_kdf(kdf, allow_weak=allow_weak_kdf)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Create the file 0600 before SQLite touches it; O_EXCL refuses a race.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        os.close(fd)
        try:
            store = Store(path, create=True)
            try:
                root = bytearray(crypto.random_bytes(crypto.KEY_BYTES))
                signing_seed, verify_key = crypto.new_signing_key()
                sync_secret, sync_public = crypto.new_box_keypair()
                meta = VaultMetaRow(
                    id=1,
                    format_version=FORMAT_VERSION,
                    vault_id=crypto.random_bytes(16),
                    kdf_t=kdf.t,
                    kdf_m_kib=kdf.m_kib,
                    kdf_p=kdf.p,
                    kdf_salt=crypto.random_bytes(crypto.SALT_BYTES),
                    wrapped_root_key=b"",
                    header_checksum=b"",
                    sync_public_key=sync_public,
                    wrapped_sync_secret_key=b"",
                    verify_key=verify_key,
                    wrapped_signing_key=b"",
                    device_id=secrets.token_hex(8),
                    sync_counter=0,
                    sync_hash=None,
                )
                kek = crypto.derive_kek(passphrase, meta.kdf_salt, kdf)
                meta.wrapped_root_key = crypto.seal(kek, bytes(root), _rk_ad(meta))
                crypto.wipe(kek)
                wrap_key = crypto.derive_subkey(root, _LABEL_KEYWRAP)
                meta.wrapped_signing_key = crypto.seal(wrap_key, signing_seed, _key_ad(meta, "signing"))
                meta.wrapped_sync_secret_key = crypto.seal(wrap_key, sync_secret, _key_ad(meta, "sync"))
                meta.header_checksum = _header_checksum(meta)
                with store.session() as s:
                    s.add(meta)
                    s.add(
                        AuditRow(
                            at=_naive_utc(clock()),
                            action="created-vault",
                            record_id=None,
                            device=meta.device_id,
                            detail="",
                        )
                    )
            finally:
                store.close()
        except BaseException:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            raise
        vault = cls(path, config=config, clock=clock)
        vault.unlock(passphrase)
        return vault

    @property
    def vault_id(self) -> str:
        return self._meta.vault_id.hex()

    @property
    def device_id(self) -> str:
        return self._meta.device_id

    @property
    def kdf(self) -> crypto.KdfParams:
        return crypto.KdfParams(self._meta.kdf_t, self._meta.kdf_m_kib, self._meta.kdf_p)

    @property
    def kdf_below_floor(self) -> bool:
        """True when the vault's KDF is weaker than the floor: offer an upgrade."""
        return crypto.is_below_floor(self.kdf)

    @property
    def is_locked(self) -> bool:
        return self._keys is None

    @property
    def damaged_ids(self) -> tuple[str, ...]:
        """Records that failed authentication at the last load (ids only)."""
        return tuple(sorted(self._damaged))

    def today(self) -> date:
        """The local calendar date of the injected clock."""
        return self._clock().astimezone().date()

    def now(self) -> datetime:
        return self._clock()

    def close(self) -> None:
        self.lock()
        self._store.close()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def unlock(self, passphrase: str) -> None:
        """Derive the KEK, unwrap the keys and load every record (see :meth:`load_contacts`).
        Writes nothing but, when it is stale, the sealed index cache.

        Raises WrongPassphrase, VaultDamaged (key header) or KdfParametersRefused
        (hostile parameters are refused before deriving).
        """
        self.derive_keys(passphrase)
        self.load_contacts()

    def derive_keys(self, passphrase: str) -> None:
        """First half of :meth:`unlock`: KDF and key unwrapping (timed apart by benchmarks)."""
        meta = self._store.read_meta()
        crypto.check_kdf(self.kdf_of(meta), allow_weak=True)  # caps, before deriving
        if _header_checksum(meta) != meta.header_checksum:
            raise VaultDamaged("key header")
        kek = crypto.derive_kek(passphrase, meta.kdf_salt, self.kdf_of(meta))
        try:
            root = bytearray(crypto.open_sealed(kek, meta.wrapped_root_key, _rk_ad(meta)))
        except crypto.SealBroken:
            raise WrongPassphrase() from None
        finally:
            crypto.wipe(kek)
        wrap_key = crypto.derive_subkey(root, _LABEL_KEYWRAP)
        try:
            signing = bytearray(crypto.open_sealed(wrap_key, meta.wrapped_signing_key, _key_ad(meta, "signing")))
            sync_secret = bytearray(crypto.open_sealed(wrap_key, meta.wrapped_sync_secret_key, _key_ad(meta, "sync")))
        except crypto.SealBroken:
            crypto.wipe(root)
            raise VaultDamaged("key header") from None
        self._meta = meta
        self._keys = _Keys(
            root=root,
            records=bytearray(crypto.derive_subkey(root, _LABEL_RECORDS)),
            signing=signing,
            sync_secret=sync_secret,
            index=bytearray(crypto.derive_subkey(root, cache.LABEL, cache.SEAL_SUBKEY)),
            row_tag=bytearray(crypto.derive_subkey(root, cache.LABEL, cache.TAG_SUBKEY)),
        )

    @staticmethod
    def kdf_of(meta: VaultMetaRow) -> crypto.KdfParams:
        return crypto.KdfParams(meta.kdf_t, meta.kdf_m_kib, meta.kdf_p)

    def lock(self) -> None:
        """Overwrite the keys and drop every decrypted contact (and cached name fragments)."""
        if self._keys is not None:
            self._keys.wipe()
        self._keys = None
        self._contacts = cache.ContactIndex()
        self._keys_index = self._contacts.keys
        self._damaged = set()
        clear_caches()

    def _require_keys(self) -> _Keys:
        if self._keys is None:
            raise VaultLocked()
        return self._keys

    def change_passphrase(
        self,
        old: str,
        new: str,
        *,
        kdf: crypto.KdfParams | None = None,
        allow_weak_kdf: bool = False,
    ) -> None:
        """Rewrap the root key under a new passphrase (and optionally new KDF costs)."""
        _check_passphrase(new)
        kdf = kdf or self.kdf
        crypto.check_kdf(kdf, allow_weak=allow_weak_kdf or kdf == self.kdf)
        meta = self._store.read_meta()
        old_kek = crypto.derive_kek(old, meta.kdf_salt, self.kdf_of(meta))
        try:
            root = bytearray(crypto.open_sealed(old_kek, meta.wrapped_root_key, _rk_ad(meta)))
        except crypto.SealBroken:
            raise WrongPassphrase() from None
        finally:
            crypto.wipe(old_kek)
        with self._store.session() as s:
            row = s.get(VaultMetaRow, 1)
            assert row is not None
            row.kdf_t, row.kdf_m_kib, row.kdf_p = kdf.t, kdf.m_kib, kdf.p
            row.kdf_salt = crypto.random_bytes(crypto.SALT_BYTES)
            kek = crypto.derive_kek(new, row.kdf_salt, kdf)
            row.wrapped_root_key = crypto.seal(kek, bytes(root), _rk_ad(row))
            crypto.wipe(kek)
            crypto.wipe(root)
            row.header_checksum = _header_checksum(row)
            self._audit(s, "passphrase", None)
        self._meta = self._store.read_meta()

    # --- loading and search ---------------------------------------------------

    def load_contacts(self) -> None:
        """(Re)load every record; records that fail go to :attr:`damaged_ids`.

        Every row is read and tagged, but only rows the sealed index cache does
        not vouch for (changed, new, or damaged since the cache was written) are
        decrypted one by one; the others come from the cache's buckets, a few
        hundred AEAD openings in all (see vault.index).  Buckets found stale are
        re-sealed afterwards, if the vault is not busy.
        """
        keys = self._require_keys()
        self._data_version = self._store.data_version()
        index = cache.ContactIndex()
        self._contacts, self._keys_index, self._damaged = index, index.keys, set()
        vault_id = self._meta.vault_id
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
            tagger = crypto.row_tagger(keys.row_tag)
            entry_of = index.keys.get
            matched = 0
            stale: list[str] = []
            # cache.row_tag(cache.stored_metadata(...)) inlined: this loop runs once per record.
            for record_id, version, end, review, hold, meta_sig, sealed in self._store.contact_checks():
                entry = entry_of(record_id)
                if (
                    entry is not None
                    and type(meta_sig) is bytes
                    and len(meta_sig) == 64
                    and type(sealed) is bytes
                    and entry[cache.TAG] == tagger(b"%r|%r|%r|%r" % (version, end, review, hold), meta_sig, sealed)
                ):
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
            if stale:
                everything = len(stale) * 2 > len(stale) + len(index)
                rows = self._store.contact_columns(None if everything else stale)
                if everything:
                    wanted = set(stale)
                    rows = [row for row in rows if row.id in wanted]
                rows.reverse()

                def drain() -> Iterable[Any]:  # frees each row's ciphertext once it is opened
                    while rows:
                        yield rows.pop()

                self._absorb(drain(), flush=False)
        except BaseException:
            self._contacts = cache.ContactIndex()
            self._keys_index = self._contacts.keys
            raise
        finally:
            if collecting:
                gc.enable()
        self._flush_index()

    def _absorb(self, rows: Iterable[ContactRow], *, flush: bool = True) -> None:
        """Open rows one by one (new or changed ones: refresh, sync, a stale cache).

        With ``flush`` the index buckets they belong to are re-sealed afterwards.
        """
        keys = self._require_keys()
        tagger = crypto.row_tagger(keys.row_tag)
        for row in rows:
            try:
                contact = self._open_row(row)
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

    def _forget(self, record_id: str) -> None:
        self._contacts.discard(record_id)
        self._damaged.discard(record_id)

    def _changes(self, sealed: Iterable[tuple[Contact, ContactRow]]) -> dict[str, _Change]:
        """Index cache state of freshly sealed rows: tag and search keys (phone formatting) per record."""
        tagger = crypto.row_tagger(self._require_keys().row_tag)
        return {c.id: (c, cache.contact_tag(tagger, c, row.meta_sig, row.sealed), contact_keys(c)) for c, row in sealed}

    def _write_index(self, session: object, changes: dict[str, _Change]) -> set[int]:
        """Re-seal the buckets of ``changes`` (and any stale ones) inside the caller's transaction."""
        from sqlalchemy.orm import Session

        assert isinstance(session, Session)
        keys = self._require_keys()
        overrides = {rid: None if change is None else cache.make_entry(*change) for rid, change in changes.items()}
        buckets = cache.sealed_buckets(self._contacts, keys.index, self._meta.vault_id, self._contacts.dirty, overrides)
        self._store.write_index(session, buckets)
        return set(buckets)

    def _settle(self, changes: dict[str, _Change], written: set[int]) -> None:
        """After the commit: memory follows what the transaction wrote."""
        for record_id, change in changes.items():
            if change is None:
                self._forget(record_id)
            else:
                self._contacts.put(*change)
                self._damaged.discard(record_id)
        self._contacts.dirty -= written

    def _flush_index(self) -> None:
        """Re-seal stale buckets in a transaction of their own; a busy vault just leaves them stale."""
        index = self._contacts
        if not index.dirty or self._keys is None:
            return
        buckets = cache.sealed_buckets(index, self._keys.index, self._meta.vault_id, index.dirty)
        if self._store.write_index_now(buckets):
            index.dirty -= set(buckets)

    def refresh(self) -> bool:
        """Pick up commits made by other processes (purge, CLI); True if anything changed."""
        self._require_keys()
        version = self._store.data_version()
        if version == self._data_version:
            return False
        self._data_version = version
        stored = self._store.contact_versions()
        known = self._contacts.versions()
        gone = (set(known) | self._damaged) - set(stored)
        for record_id in gone:
            self._forget(record_id)
        changed = [cid for cid, v in stored.items() if known.get(cid) != v]
        # No index write here: refresh runs on the TUI's thread and must not wait
        # for a busy vault; stale buckets are re-sealed by the next write.
        self._absorb(self._store.contact_columns(changed) if changed else [], flush=False)
        return bool(gone or changed)

    def _open_row(self, row: ContactRow) -> Contact:
        keys = self._require_keys()
        ad = record_ad(
            self._meta.vault_id,
            "contacts",
            row.id,
            row.meta_version,
            row.retention_end,
            row.review_at,
            row.hold,
            row.meta_sig,
        )
        try:
            raw = crypto.open_sealed(keys.records, row.sealed, ad)
            return decode_payload(
                raw,
                record_id=row.id,
                retention_end=row.retention_end,
                review_at=row.review_at,
                hold=bool(row.hold),
                meta_version=row.meta_version,
            )
        except (crypto.SealBroken, ValueError, KeyError, TypeError):
            raise VaultDamaged(f"record {row.id}") from None

    def contacts(self, *, include_restricted: bool = True) -> list[Contact]:
        """Every readable contact, sorted by name."""
        self._require_keys()
        found = [c for c in self._contacts.all() if include_restricted or not c.is_restricted]
        return sorted(found, key=lambda c: (c.name.casefold(), c.id))

    def __len__(self) -> int:
        return len(self._contacts)

    def search(self, query: str, *, include_restricted: bool = False) -> list[Contact]:
        """Case-, accent- and spelling-insensitive substring search (see vault.search)."""
        self._require_keys()
        parsed = parse_query(query)
        index = self._contacts
        found = [
            index[cid]
            for cid, keys in self._keys_index.items()
            if matches(parsed, keys) and (include_restricted or not index[cid].is_restricted)
        ]
        return sorted(found, key=lambda c: (c.name.casefold(), c.id))

    def search_keys(self) -> Mapping[str, Sequence[str]]:
        """The precomputed search keys by record id: items 0 and 1 of each value are
        the text and digits haystacks (front ends may filter incrementally)."""
        self._require_keys()
        return self._keys_index

    def get(self, record_id: str) -> Contact:
        self._require_keys()
        if record_id in self._damaged:
            raise VaultDamaged(f"record {record_id}")
        try:
            return self._contacts[record_id]
        except KeyError:
            raise ContactNotFound(record_id) from None

    def resolve(self, prefix: str) -> Contact:
        """A contact by its id or an unambiguous id prefix (at least 4 characters)."""
        self._require_keys()
        if prefix in self._contacts or prefix in self._damaged:
            return self.get(prefix)
        if len(prefix) >= 4:
            hits = [cid for cid in (*self._contacts, *self._damaged) if cid.startswith(prefix)]
            if len(hits) == 1:
                return self.get(hits[0])
            if len(hits) > 1:
                raise InvalidInput("id", f"prefix {prefix} is ambiguous")
        raise ContactNotFound(prefix)

    # --- rules ------------------------------------------------------------------

    def rule_list(self) -> list[RetentionRule]:
        return list(self.rules)

    def compute_dates(self, rule_key: str, trigger: date | None) -> tuple[date | None, date | None]:
        """(retention end, review date) for a rule and trigger date, as a form previews it."""
        rule = self.rules.get(rule_key)
        return retention_end(rule, trigger), review_date(rule, trigger)

    # --- writing ----------------------------------------------------------------

    def add(self, draft: ContactDraft) -> Contact:
        """Validate and store a new contact; returns it with its new id."""
        self._require_keys()
        contact = self._new_contact(self._validated(draft), _naive_utc(self._clock()))
        row = self._seal_row(contact)
        changes = self._changes([(contact, row)])
        with self._store.session() as s:
            s.add(row)
            self._audit(s, "created", contact.id)
            written = self._write_index(s, changes)
        self._settle(changes, written)
        return contact

    def add_many(self, drafts: Iterable[ContactDraft], *, action: str = "imported") -> list[Contact]:
        """Store several contacts in one transaction: all or nothing."""
        self._require_keys()
        now = _naive_utc(self._clock())
        contacts = []
        for draft in drafts:
            contacts.append(self._new_contact(self._validated(draft), now))
        sealed = [(contact, self._seal_row(contact)) for contact in contacts]
        changes = self._changes(sealed)
        with self._store.session() as s:
            for contact, row in sealed:
                s.add(row)
                self._audit(s, action, contact.id)
            written = self._write_index(s, changes)
        self._settle(changes, written)
        return contacts

    def _new_contact(self, clean: ContactDraft, now: datetime) -> Contact:
        """A new contact (fresh random id, version 1) from a validated draft."""
        end, review = self.compute_dates(clean.rule, clean.trigger)
        return Contact(
            id=str(uuid.uuid4()),
            retention_end=end,
            review_at=review,
            created=now,
            updated=now,
            meta_version=1,
            **_draft_fields(clean),
        )

    def update(self, record_id: str, draft: ContactDraft) -> Contact:
        """Replace a contact's fields; bumps meta_version and re-signs."""
        current = self.get(record_id)
        clean = self._validated(draft)
        end, review = self.compute_dates(clean.rule, clean.trigger)
        contact = replace(current, retention_end=end, review_at=review, **_draft_fields(clean))
        if self._settle_consent(contact):  # issue 5: consent withdrawn, no other duty -> erased at once
            return contact
        return self._rewrite(current, contact, "updated")

    def restrict(self, record_id: str) -> Contact:
        """Mark a contact restricted (Art. 18): kept, hidden from the working list."""
        current = self.get(record_id)
        return self._rewrite(current, replace(current, state=State.RESTRICTED), "restricted")

    def unrestrict(self, record_id: str) -> Contact:
        current = self.get(record_id)
        return self._rewrite(current, replace(current, state=State.ACTIVE), "unrestricted")

    def hold(self, record_id: str) -> Contact:
        """Put a legal hold on a contact: the purge leaves it until released."""
        current = self.get(record_id)
        return self._rewrite(current, replace(current, hold=True), "held")

    def release(self, record_id: str) -> Contact:
        current = self.get(record_id)
        return self._rewrite(current, replace(current, hold=False), "released")

    def erase_preview(self, record_id: str) -> EraseResult:
        """What :meth:`erase` would do, and why, without doing it."""
        contact = self.get(record_id)
        today = self.today()
        rule = self.rules.get(contact.rule) if contact.rule in self.rules else None
        if contact.hold:
            return EraseResult(
                EraseOutcome.RESTRICTED,
                contact.id,
                "a legal hold applies; the record is restricted until the hold is released",
                purge_from(contact.retention_end),
            )
        if rule is not None and rule.obliges and contact.retention_end and contact.retention_end >= today:
            return EraseResult(
                EraseOutcome.RESTRICTED,
                contact.id,
                f"a retention duty applies until {contact.retention_end.isoformat()} "
                f"({rule.reference}; Art. 17(3)(b) GDPR); the record is restricted and purged afterwards",
                purge_from(contact.retention_end),
            )
        return EraseResult(EraseOutcome.DELETED, contact.id, "no retention duty or hold applies; deleted now")

    def erase(self, record_id: str) -> EraseResult:
        """Erasure (Art. 17): delete now with a signed tombstone, or restrict when a
        retention duty or hold forbids deletion.  The result says which."""
        result = self.erase_preview(record_id)
        if result.outcome is EraseOutcome.RESTRICTED:
            contact = self.get(record_id)
            if not contact.is_restricted:
                self._rewrite(contact, replace(contact, state=State.RESTRICTED), "restricted")
            return result
        self._delete([record_id], reason="erased")
        return result

    def _delete(self, ids: list[str], *, reason: str) -> None:
        keys = self._require_keys()
        now = _naive_utc(self._clock())
        changes: dict[str, _Change] = dict.fromkeys(ids)
        with self._store.session() as s:
            for record_id in ids:
                row = s.get(ContactRow, record_id)
                if row is None:
                    raise ContactNotFound(record_id)
                s.delete(row)
                s.merge(
                    TombstoneRow(
                        id=record_id,
                        deleted_at=now,
                        reason=reason,
                        retention_end=row.retention_end,
                        signature=crypto.sign(
                            keys.signing, tombstone_message(self._meta.vault_id, record_id, reason, now)
                        ),
                    )
                )
                self._audit(s, reason, record_id)
            written = self._write_index(s, changes)  # the index keeps no copy of them
        self._settle(changes, written)
        self._store.scrub()

    def _validated(self, draft: ContactDraft) -> ContactDraft:
        clean = normalise_draft(draft, self.config.region)
        rule = self.rules.get(clean.rule)
        if not rule.until_withdrawn and clean.trigger is None:
            raise InvalidInput("trigger", f"the rule {rule.key} needs a {rule.trigger_label}")
        if clean.basis is LegalBasis.CONSENT and clean.consent_given is None:
            clean = replace(clean, consent_given=clean.trigger or self.today())
        if rule.until_withdrawn and clean.trigger is None:
            clean = replace(clean, trigger=clean.consent_given or self.today())
        return clean

    def _rewrite(self, current: Contact, new: Contact, action: str) -> Contact:
        new = replace(new, meta_version=current.meta_version + 1, updated=_naive_utc(self._clock()))
        with self._store.session() as s:
            row = s.get(ContactRow, current.id)
            if row is None:
                raise ContactNotFound(current.id)
            if row.meta_version != current.meta_version:
                raise VaultError("the contact was changed elsewhere; reload and try again")
            fresh = self._seal_row(new)
            row.retention_end, row.review_at, row.hold = fresh.retention_end, fresh.review_at, fresh.hold
            row.meta_version, row.meta_sig, row.sealed = fresh.meta_version, fresh.meta_sig, fresh.sealed
            self._audit(s, action, current.id)
            changes = self._changes([(new, fresh)])
            written = self._write_index(s, changes)
        self._settle(changes, written)
        return new

    def _seal_row(self, contact: Contact) -> ContactRow:
        keys = self._require_keys()
        vault_id = self._meta.vault_id
        sig = crypto.sign(
            keys.signing,
            meta_message(vault_id, contact.id, contact.retention_end, contact.hold, contact.meta_version),
        )
        ad = record_ad(
            vault_id,
            "contacts",
            contact.id,
            contact.meta_version,
            contact.retention_end,
            contact.review_at,
            contact.hold,
            sig,
        )
        return ContactRow(
            id=contact.id,
            retention_end=contact.retention_end,
            review_at=contact.review_at,
            hold=contact.hold,
            meta_version=contact.meta_version,
            meta_sig=sig,
            sealed=crypto.seal(keys.records, encode_payload(contact), ad),
        )

    def _audit(self, session: object, action: str, record_id: str | None, detail: str = "") -> None:
        from sqlalchemy.orm import Session

        assert isinstance(session, Session)
        session.add(
            AuditRow(
                at=_naive_utc(self._clock()),
                action=action,
                record_id=record_id,
                device=self._meta.device_id,
                detail=detail,
            )
        )

    # --- plaintext-metadata work (possible while locked) ------------------------

    def due_for_purge(self, today: date | None = None) -> list[DueRecord]:
        """Records whose signed retention end lies before ``today`` and with no hold."""
        today = today or self.today()
        return [
            DueRecord(row.id, row.retention_end, self._signature_ok(row))
            for row in self._store.due_rows(today)
            if row.retention_end is not None
        ]

    def _signature_ok(self, row: ContactRow) -> bool:
        return signature_ok(
            self._meta.verify_key,
            self._meta.vault_id,
            row.id,
            row.retention_end,
            bool(row.hold),
            row.meta_version,
            row.meta_sig,
        )

    def audit_log(self, *, action: str | None = None, since: date | None = None) -> list[AuditEntry]:
        """The accountability log (Art. 5(2)): record ids and dates, never personal data."""
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

    def record_count(self) -> int:
        return self._store.count_contacts()

    # === purge (issue 5): methods below this line ===
    # Thin wrappers: the logic lives in vault.purge (which imports this module only for typing).

    def purge(
        self,
        today: date | None = None,
        *,
        dry_run: bool = False,
        wait: float = 10.0,
        expect_key: str | None = None,
    ) -> PurgeReport:
        """Delete expired, unheld records whose signed metadata verifies; no passphrase needed.

        Returns a :class:`vault.purge.PurgeReport`.  Records with a bad signature
        are listed in ``report.refused`` and left alone.  Raises VaultBusy when
        another process keeps the vault longer than ``wait`` seconds, and
        VerifyKeyChanged when ``expect_key`` (a :attr:`verify_key_fingerprint`
        pinned earlier) no longer matches.
        """
        from vault import purge as _purge

        day = today or self.today()
        if dry_run:
            return _purge.dry_run(self, day, expect_key=expect_key)
        return _purge.run(self, day, wait=wait, expect_key=expect_key)

    @property
    def verify_key_fingerprint(self) -> str:
        """Short hex fingerprint of the public verify key (pinned by the purge schedule)."""
        from vault import purge as _purge

        return _purge.fingerprint(self._meta.verify_key)

    def purge_preview(self, days: int = 30, today: date | None = None) -> list[PreviewRecord]:
        """Records the purge reaches within ``days`` days (:class:`vault.purge.PreviewRecord`)."""
        from vault import purge as _purge

        return _purge.preview(self, today or self.today(), days)

    def overdue_reviews(self, today: date | None = None) -> list[ReviewDue]:
        """Records whose review date has passed (:class:`vault.purge.ReviewDue`); never deleted."""
        from vault import purge as _purge

        return _purge.overdue_reviews(self, today or self.today())

    def withdrawal_erases(self, contact: Contact) -> bool:
        """True when saving ``contact`` erases it at once: consent withdrawn, no other duty."""
        from vault import purge as _purge

        rule = self.rules.get(contact.rule) if contact.rule in self.rules else None
        return _purge.consent_withdrawal_erases(contact, rule, self.today())

    def _settle_consent(self, contact: Contact) -> bool:
        """Erase ``contact`` now (tombstone + audit ``withdrawn``) if :meth:`withdrawal_erases`."""
        if not self.withdrawal_erases(contact):
            return False
        self._delete([contact.id], reason="withdrawn")
        return True

    # === export, import, requests (issue 4): methods below this line ===
    # Names for annotations only, imported in the class body so this section stays
    # one self-contained block; the methods import what they call.
    from vault.export import ExportResult as _ExportResult
    from vault.importers import ImportReport as _ImportReport
    from vault.requests import DataRequest as _DataRequest
    from vault.requests import RequestType as _RequestType

    def find_person(self, *, name: str = "", email: str = "", phone: str = "") -> list[Contact]:
        """Every record (restricted ones too) matching the name, the e-mail
        (case-insensitive) or the phone (compared in E.164).  The owner confirms
        the set before exporting it."""
        from vault.export import PersonQuery, find_person

        self._require_keys()
        query = PersonQuery.parse(name=name, email=email, phone=phone, region=self.config.region)
        # Decode only the records whose search keys may match (a superset), not all of them.
        candidates = (self._contacts[cid] for cid, keys in self._keys_index.items() if query.may_match(keys[0]))
        return find_person(candidates, name=name, email=email, phone=phone, region=self.config.region)

    def export_person(self, ids: Iterable[str], out_dir: Path, lang: str = "en") -> _ExportResult:
        """Write the Art. 15/20 answer for these records into ``out_dir`` (new or
        empty; folder 0700, files 0600) and log ``exported`` per record id."""
        from vault.export import ExportResult, build_export, remove_export, write_export

        contacts = [self.get(record_id) for record_id in dict.fromkeys(ids)]
        files = build_export(
            contacts, self.config, self.rules, exported_at=self._clock(), today=self.today(), lang=lang
        )
        written: Path | None = None
        try:
            with self._store.session() as s:
                for contact in contacts:
                    self._audit(s, "exported", contact.id)
                written = write_export(Path(out_dir), files)
        except BaseException:
            if written is not None:  # the audit rows did not commit: take the files back
                remove_export(written)
            raise
        return ExportResult(written, tuple(files), tuple(c.id for c in contacts))

    def import_file(
        self,
        path: Path,
        basis: LegalBasis,
        rule: str,
        trigger: date | None = None,
        dry_run: bool = False,
        *,
        skip_invalid: bool = False,
        source: str | None = None,
        purpose: str = "",
    ) -> _ImportReport:
        """Import a vCard or CSV file with one legal basis and rule for the batch.

        Entries matching a stored contact (vCard UID, e-mail, phone) are merged
        or skipped, never duplicated.  With ``dry_run`` nothing is written.  Any
        entry error blocks the whole import unless ``skip_invalid``; what is
        written goes in one transaction.
        """
        from vault import importers

        self._require_keys()
        chosen = self.rules.get(rule)  # UnknownRule before reading the file
        if not chosen.until_withdrawn and trigger is None:
            raise InvalidInput("trigger", f"the rule {chosen.key} needs a {chosen.trigger_label}")
        path = Path(path)
        data = importers.read_file(path)
        kind, parsed, ignored = importers.read_entries(data, path.name)
        if source is None:
            source = f"import of the file {path.name} on {self.today().isoformat()}"
        plan = importers.plan_import(
            path.name,
            kind,
            parsed,
            self._contacts.all(),
            basis=basis,
            rule=rule,
            trigger=trigger,
            source=source,
            purpose=purpose,
            validate=self._validated,
            ignored_columns=ignored,
        )
        if dry_run or (plan.has_errors and not skip_invalid):
            return plan.report(committed=False, dry_run=dry_run)
        new_ids = self._commit_import(plan.new, list(plan.merges.values()))
        return plan.report(committed=True, dry_run=False, new_ids=new_ids)

    def _commit_import(self, drafts: list[ContactDraft], merges: list[tuple[Contact, ContactDraft]]) -> list[str]:
        """Add validated drafts and update merged contacts in one transaction."""
        self._require_keys()
        now = _naive_utc(self._clock())
        new: list[Contact] = []
        for clean in drafts:
            new.append(self._new_contact(clean, now))
        updated = [
            (current, replace(current, **_draft_fields(clean), meta_version=current.meta_version + 1, updated=now))
            for current, clean in merges
        ]
        sealed: list[tuple[Contact, ContactRow]] = []
        with self._store.session() as s:
            for contact in new:
                added = self._seal_row(contact)
                s.add(added)
                sealed.append((contact, added))
                self._audit(s, "imported", contact.id)
            for current, contact in updated:
                row = s.get(ContactRow, current.id)
                if row is None or row.meta_version != current.meta_version:
                    raise VaultError("a contact was changed elsewhere during the import; nothing was imported")
                fresh = self._seal_row(contact)
                row.retention_end, row.review_at, row.hold = fresh.retention_end, fresh.review_at, fresh.hold
                row.meta_version, row.meta_sig, row.sealed = fresh.meta_version, fresh.meta_sig, fresh.sealed
                sealed.append((contact, fresh))
                self._audit(s, "updated", current.id, "import")
            changes = self._changes(sealed)
            written = self._write_index(s, changes)
        self._settle(changes, written)
        return [c.id for c in new]

    def open_request(
        self,
        type: _RequestType | str,
        record_ids: Iterable[str] = (),
        *,
        received: date | None = None,
        notes: str = "",
    ) -> _DataRequest:
        """Record a data-subject request; its deadline is one month after receipt (Art. 12(3))."""
        from vault import requests

        keys = self._require_keys()
        received = received or self.today()
        if received > self.today():
            raise InvalidInput("received", "lies in the future")
        ids = requests.check_record_ids(tuple(record_ids))
        for record_id in ids:
            self.get(record_id)
        request = requests.DataRequest(
            id=str(uuid.uuid4()),
            type=requests.parse_type(type),
            received=received,
            deadline=requests.deadline_for(received),
            record_ids=ids,
            notes=requests.clean_notes(notes),
        )
        with self._store.session() as s:
            s.add(requests.seal_row(request, requests.request_key(keys.root), self._meta.vault_id))
            self._audit(s, "request-opened", None, request.id)
        return request

    def list_requests(self, *, include_closed: bool = False) -> list[_DataRequest]:
        """Requests by deadline (open ones only unless ``include_closed``)."""
        from vault import requests

        keys = self._require_keys()
        key = requests.request_key(keys.root)
        with self._store.session() as s:
            rows = requests.stored_rows(s)
            return [
                requests.open_row(row, key, self._meta.vault_id) for row in rows if include_closed or row.closed is None
            ]

    def overdue_requests(self) -> list[_DataRequest]:
        """Open requests whose Art. 12(3) deadline has passed."""
        today = self.today()
        return [r for r in self.list_requests() if r.is_overdue(today)]

    def overdue_request_count(self) -> int:
        """How many open requests are past their deadline; plaintext dates only, so it works while locked."""
        from vault import requests

        today = self.today()
        with self._store.session() as s:
            return sum(1 for row in requests.stored_rows(s) if row.closed is None and row.deadline < today)

    def get_request(self, request_id: str) -> _DataRequest:
        """A request by id or unambiguous id prefix (at least 4 characters)."""
        from vault import requests

        keys = self._require_keys()
        with self._store.session() as s:
            hits = requests.matching_ids(s, request_id)
            if len(hits) > 1:
                raise InvalidInput("request", "the id prefix is ambiguous")
            row = requests.stored_row(s, hits[0]) if hits else None
            if row is None:
                raise requests.RequestNotFound(request_id)
            return requests.open_row(row, requests.request_key(keys.root), self._meta.vault_id)

    def extend_request(self, request_id: str, *, reason: str) -> _DataRequest:
        """Extend the deadline by two months (Art. 12(3)): once, before the first month ends,
        with a reason the person must be told."""
        from vault import requests

        self._require_keys()
        current = self.get_request(request_id)
        reason = requests.clean_notes(reason)
        if not reason:
            raise InvalidInput("reason", "the person must be told why the answer takes longer")
        if current.is_closed or current.is_extended:
            raise InvalidInput("request", "is closed or already extended")
        if self.today() > current.deadline:
            raise InvalidInput("request", "can only be extended within one month of receipt")
        notes = requests.clean_notes(f"{current.notes}\nExtended: {reason}" if current.notes else f"Extended: {reason}")
        new = replace(
            current,
            deadline=requests.extended_deadline(current.received),
            notes=notes,
            version=current.version + 1,
        )
        return self._save_request(current, new, "request-extended")

    def close_request(self, request_id: str, *, closed: date | None = None, notes: str = "") -> _DataRequest:
        """Mark a request answered (``notes`` are appended to its notes)."""
        from vault import requests

        self._require_keys()
        current = self.get_request(request_id)
        if current.is_closed:
            raise InvalidInput("request", "is already closed")
        closed = closed or self.today()
        if closed < current.received or closed > self.today():
            raise InvalidInput("closed", "must lie between the day received and today")
        extra = requests.clean_notes(notes)
        merged = f"{current.notes}\n{extra}" if current.notes and extra else current.notes or extra
        new = replace(current, closed=closed, notes=requests.clean_notes(merged), version=current.version + 1)
        return self._save_request(current, new, "request-closed")

    def _save_request(self, current: _DataRequest, new: _DataRequest, action: str) -> _DataRequest:
        """Re-seal a changed request, refusing if another process changed it meanwhile."""
        from vault import requests

        keys = self._require_keys()
        with self._store.session() as s:
            row = requests.stored_row(s, current.id)
            if row is None or row.version != current.version:
                raise VaultError("the request was changed elsewhere; reload and try again")
            fresh = requests.seal_row(new, requests.request_key(keys.root), self._meta.vault_id)
            row.deadline, row.closed = fresh.deadline, fresh.closed
            row.version, row.sealed = fresh.version, fresh.sealed
            self._audit(s, action, None, current.id)
        return new

    # === sync (issue 6): methods below this line ===

    # Sync logic lives in vault/sync/engine.py; these are its doors.  The report
    # types are re-exported as class attributes (vault.sync.report imports nothing
    # from vault, so this import cannot cycle).
    from vault.sync.report import Progress as SyncProgress
    from vault.sync.report import SyncReport, SyncStatus

    @property
    def sync_configured(self) -> bool:
        """True when `sealbook sync setup` has been run for this vault on this device."""
        from vault.sync import engine

        return engine.is_configured(self)

    def sync_setup(
        self, url: str, *, user: str = "", password: str | None = None, known_hosts: str = "", identity: str = ""
    ) -> str:
        """Save the sync target (password to the OS keyring or a 0600 file); returns it for display."""
        from vault.sync import engine

        return engine.configure(
            self, url, user=user, password=password, known_hosts=known_hosts, identity=identity
        ).describe()

    def sync_push(self, remote: object = None, *, progress: SyncProgress | None = None) -> SyncReport:
        """Push an encrypted snapshot.  Works while locked (the unattended purge) unless
        the remote has changes this device has not seen: then unlocked it pulls and
        merges first, locked it raises RemoteNewer."""
        from vault.sync import engine

        return engine.push(self, remote, progress=progress)  # type: ignore[arg-type]

    def sync_pull(self, remote: object = None, *, progress: SyncProgress | None = None) -> SyncReport:
        """Fetch the remote blob and merge it; refuses rollback, fork and foreign blobs."""
        from vault.sync import engine

        return engine.pull(self, remote, progress=progress)  # type: ignore[arg-type]

    def sync_status(self, *, check_remote: bool = False) -> SyncStatus:
        """Counters, last push/pull, pending local changes; optionally whether the remote moved."""
        from vault.sync import engine

        return engine.status(self, check_remote=check_remote)

    @classmethod
    def clone_from(
        cls,
        url: str | None,
        path: Path,
        passphrase: str,
        *,
        user: str = "",
        password: str | None = None,
        known_hosts: str = "",
        identity: str = "",
        remote: object = None,
        config: Config | None = None,
        clock: Clock = utc_now,
        progress: SyncProgress | None = None,
    ) -> tuple[Vault, SyncReport]:
        """Create a local vault at ``path`` from the remote blob and the passphrase,
        and remember the target for later pushes and pulls.  ``url`` may be None
        when an open ``remote`` backend is passed (then nothing is remembered)."""
        from vault.sync import engine
        from vault.sync.remote import Remote
        from vault.sync.settings import SyncSettings, normalise_url

        own = remote is None
        if remote is None:
            if url is None:
                raise ValueError("clone_from needs a url or a remote")
            settings = SyncSettings(url=normalise_url(url, user), user=user, known_hosts=known_hosts, identity=identity)
            remote = engine.open_remote(settings, password)
        target: Remote = remote  # type: ignore[assignment]
        try:
            vault, report = engine.clone(target, path, passphrase, config=config, clock=clock, progress=progress)
        finally:
            if own:
                target.close()
        if url is not None:
            engine.configure(vault, url, user=user, password=password, known_hosts=known_hosts, identity=identity)
        return vault, report


def _check_passphrase(passphrase: str) -> None:
    if not isinstance(passphrase, str) or len(passphrase) < 8:
        raise InvalidInput("passphrase", "must be at least 8 characters")
    if len(passphrase) > 1024:
        raise InvalidInput("passphrase", "must be at most 1024 characters")


def _draft_fields(draft: ContactDraft) -> dict[str, Any]:
    return {
        "name": draft.name,
        "basis": draft.basis,
        "rule": draft.rule,
        "trigger": draft.trigger,
        "emails": draft.emails,
        "phones": draft.phones,
        "org": draft.org,
        "notes": draft.notes,
        "source": draft.source,
        "purpose": draft.purpose,
        "consent_given": draft.consent_given,
        "consent_withdrawn": draft.consent_withdrawn,
        "uid": draft.uid,
    }

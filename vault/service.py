"""The Vault facade: the only door front ends use.

It composes the parts and delegates; each part has one job and its own module:

* ``KeyRing`` (vault.keyring): the key header; create, unlock, lock, rewrap, purpose keys;
* ``RecordBook`` (vault.book): the decrypted contacts; load, search, add, rewrite, delete;
* vault.policy: pure erasure and retention rules over a contact, the rules and a date;
* ``AuditLog`` (vault.audit): the accountability log;
* the jobs, which receive narrow things, never the facade: vault.purge (a
  ``PurgeTarget``), ``RequestDesk`` (vault.requests), vault.importers,
  vault.export and vault.sync.engine (``SyncParts``).

It hands out frozen dataclasses (vault.model), never ORM rows or Sessions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from vault import crypto, policy
from vault import purge as purging
from vault.audit import AuditLog
from vault.book import RecordBook
from vault.clock import Clock, local_today, naive_utc, utc_now
from vault.config import Config
from vault.crypto import KDF_DEFAULT, KDF_FLOOR, KdfParams
from vault.crypto import is_below_floor as kdf_is_below_floor
from vault.errors import InvalidInput, VaultNotFound
from vault.head import Pins
from vault.keyring import KeyRing, create_vault_file
from vault.model import AuditEntry, Contact, ContactDraft, EraseOutcome, EraseResult, LegalBasis, RetentionRule, State
from vault.purge import DueRecord, PreviewRecord, PurgeReport, ReviewDue
from vault.requests import DataRequest, RequestDesk, RequestType
from vault.store.repository import Store
from vault.sync.report import Progress, SyncReport, SyncStatus

if TYPE_CHECKING:
    from vault.export import ExportResult
    from vault.importers import ImportReport
    from vault.sync.parts import SyncParts

# Re-exported so front ends can name KDF settings and the clock without importing vault.crypto.
__all__ = ["KDF_DEFAULT", "KDF_FLOOR", "Clock", "DueRecord", "KdfParams", "Vault", "kdf_is_below_floor", "utc_now"]


class Vault:
    """An encrypted contact vault in one SQLite file.

    ``Vault(path)`` opens an existing vault locked: plaintext-metadata work
    (purge selection, the audit log) is possible; everything personal needs
    :meth:`unlock`.  :meth:`Vault.create` makes a new one and returns it unlocked.
    """

    # Report types, for front ends that annotate sync results.
    SyncProgress = Progress
    SyncReport = SyncReport
    SyncStatus = SyncStatus

    def __init__(self, path: Path, *, config: Config | None = None, clock: Clock = utc_now) -> None:
        self.path = Path(path)
        self.config = config or Config()
        self.rules = self.config.rulebook()
        self._clock = clock
        if not self.path.is_file():
            raise VaultNotFound(str(self.path))
        self._store = Store(self.path)
        try:
            self._ring = KeyRing(self._store)
        except Exception:
            self._store.close()
            raise
        self._pins = Pins(self._ring.vault_id)
        self._audit = AuditLog(self._store, clock, self._ring.device_id)
        self._book = RecordBook(self._store, self._ring, self._audit, clock, self._pins)
        self._requests = RequestDesk(
            self._store, lambda: self._ring.keys.requests, self._ring.vault_id, self._audit, self.today, self.get
        )

    # --- life cycle (vault.keyring) ---------------------------------------------------

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
        _check_passphrase(passphrase)
        create_vault_file(Path(path), passphrase, kdf, allow_weak_kdf=allow_weak_kdf, clock=clock)
        vault = cls(path, config=config, clock=clock)
        vault.unlock(passphrase)
        return vault

    @property
    def vault_id(self) -> str:
        return self._ring.vault_id.hex()

    @property
    def device_id(self) -> str:
        return self._ring.device_id

    @property
    def kdf(self) -> crypto.KdfParams:
        return self._ring.kdf

    @property
    def kdf_below_floor(self) -> bool:
        """True when the vault's KDF is weaker than the floor: offer an upgrade."""
        return crypto.is_below_floor(self.kdf)

    @property
    def is_locked(self) -> bool:
        return self._ring.is_locked

    @property
    def damaged_ids(self) -> tuple[str, ...]:
        """Records that failed authentication at the last load (ids only)."""
        return self._book.damaged_ids

    def today(self) -> date:
        """The local calendar date of the injected clock."""
        return local_today(self._clock)

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

        Raises WrongPassphrase, VaultTampered (a verify key other than the pinned
        one, a head that does not verify or is older than this device has seen),
        VaultDamaged (key header) or KdfParametersRefused.
        """
        self.derive_keys(passphrase)
        self.load_contacts()

    def derive_keys(self, passphrase: str) -> None:
        """First half of :meth:`unlock`: KDF and key unwrapping (timed apart by benchmarks)."""
        self._pins.check_key(self._store.read_meta().verify_key)  # before "wrong passphrase" can mislead
        self._ring.unlock(passphrase)

    def lock(self) -> None:
        """Overwrite the keys and drop every decrypted contact (and cached name fragments)."""
        self._ring.lock()
        self._book.clear()

    def change_passphrase(
        self,
        old: str,
        new: str,
        *,
        kdf: crypto.KdfParams | None = None,
        allow_weak_kdf: bool = False,
        rotate: bool = False,
    ) -> None:
        """Rewrap the root key under a new passphrase (and optionally new KDF costs).

        With ``rotate`` every key is replaced and every row re-sealed (vault.rotation);
        an unlocked vault is unlocked again with the new passphrase afterwards.
        """
        _check_passphrase(new)
        kdf = kdf or self.kdf
        crypto.check_kdf(kdf, allow_weak=allow_weak_kdf or kdf == self.kdf)
        if rotate:
            from vault.rotation import rotate as rotate_keys

            verify_key = rotate_keys(self._store, self._audit, old, new, kdf)
            self._pins.repin_key(verify_key)
            was_unlocked = not self.is_locked
            self.lock()
            self._ring.reload()
            if was_unlocked:
                self.unlock(new)
            return
        with self._store.session() as s:
            meta = self._store.meta_in(s)
            self._ring.rewrap(meta, old, new, kdf)
            self._audit.add(s, "passphrase")
        self._ring.reload()

    # --- reading (vault.book) -----------------------------------------------------------

    def load_contacts(self) -> None:
        """(Re)load every record; records that fail, or that are not the newest version
        by the signed manifest, go to :attr:`damaged_ids` (see vault.head)."""
        try:
            self._book.load(self._pins)
        except BaseException:
            self.lock()
            raise

    def refresh(self) -> bool:
        """Pick up commits made by other processes (purge, CLI); True if anything changed."""
        return self._book.refresh()

    def contacts(self, *, include_restricted: bool = True) -> list[Contact]:
        """Every readable contact, sorted by name."""
        return self._book.all(include_restricted=include_restricted)

    def __len__(self) -> int:
        return len(self._book)

    def search(self, query: str, *, include_restricted: bool = False) -> list[Contact]:
        """Case-, accent- and spelling-insensitive substring search (see vault.search)."""
        return self._book.search(query, include_restricted=include_restricted)

    def search_keys(self) -> Mapping[str, Sequence[str]]:
        """The precomputed search keys by record id (front ends may filter incrementally)."""
        return self._book.search_keys()

    def get(self, record_id: str) -> Contact:
        return self._book.get(record_id)

    def resolve(self, prefix: str) -> Contact:
        """A contact by its id or an unambiguous id prefix (at least 4 characters)."""
        return self._book.resolve(prefix)

    def rule_list(self) -> list[RetentionRule]:
        return list(self.rules)

    def compute_dates(self, rule_key: str, trigger: date | None) -> tuple[date | None, date | None]:
        """(retention end, review date) for a rule and trigger date, as a form previews it."""
        return policy.dates_for(self.rules, rule_key, trigger)

    # --- writing (vault.book, vault.policy) -----------------------------------------------

    def _validated(self, draft: ContactDraft) -> ContactDraft:
        return policy.validated(draft, self.rules, self.config.region, self.today())

    def add(self, draft: ContactDraft) -> Contact:
        """Validate and store a new contact; returns it with its new id."""
        return self.add_many([draft], action="created")[0]

    def add_many(self, drafts: Iterable[ContactDraft], *, action: str = "imported") -> list[Contact]:
        """Store several contacts in one transaction: all or nothing."""
        self._ring.keys  # noqa: B018  (VaultLocked before validating anything)
        now = naive_utc(self._clock())
        contacts = [policy.new_contact(self._validated(draft), self.rules, now) for draft in drafts]
        self._book.insert(contacts, action)
        return contacts

    def update(self, record_id: str, draft: ContactDraft) -> Contact:
        """Replace a contact's fields; bumps meta_version and re-signs."""
        current = self.get(record_id)
        contact = policy.edited(current, self._validated(draft), self.rules)
        if self.withdrawal_erases(contact):  # consent withdrawn, no other duty -> erased at once
            self._book.delete([contact.id], reason=purging.REASON_WITHDRAWN)
            return contact
        return self._book.rewrite(current, contact, "updated")

    def _set(self, record_id: str, action: str, **changes: object) -> Contact:
        current = self.get(record_id)
        return self._book.rewrite(current, replace(current, **changes), action)  # type: ignore[arg-type]

    def restrict(self, record_id: str) -> Contact:
        """Mark a contact restricted (Art. 18): kept, hidden from the working list."""
        return self._set(record_id, "restricted", state=State.RESTRICTED)

    def unrestrict(self, record_id: str) -> Contact:
        return self._set(record_id, "unrestricted", state=State.ACTIVE)

    def hold(self, record_id: str) -> Contact:
        """Put a legal hold on a contact: the purge leaves it until released."""
        return self._set(record_id, "held", hold=True)

    def release(self, record_id: str) -> Contact:
        return self._set(record_id, "released", hold=False)

    def erase_preview(self, record_id: str) -> EraseResult:
        """What :meth:`erase` would do, and why, without doing it."""
        return policy.erase_decision(self.get(record_id), self.rules, self.today())

    def erase(self, record_id: str) -> EraseResult:
        """Erasure (Art. 17): delete now with a signed tombstone, or restrict when a
        retention duty or hold forbids deletion.  The result says which."""
        result = self.erase_preview(record_id)
        if result.outcome is EraseOutcome.RESTRICTED:
            if not self.get(record_id).is_restricted:
                self.restrict(record_id)
            return result
        self._book.delete([record_id], reason="erased")
        return result

    def withdrawal_erases(self, contact: Contact) -> bool:
        """True when saving ``contact`` erases it at once: consent withdrawn, no other duty."""
        return policy.consent_withdrawal_erases(contact, policy.rule_of(contact, self.rules), self.today())

    # --- plaintext-metadata work, possible while locked (vault.audit, vault.purge) ---------

    def audit_log(self, *, action: str | None = None, since: date | None = None) -> list[AuditEntry]:
        """The accountability log (Art. 5(2)): record ids and dates, never personal data."""
        return self._audit.entries(action=action, since=since)

    def record_count(self) -> int:
        return self._store.count_contacts()

    def due_for_purge(self, today: date | None = None) -> list[DueRecord]:
        """Records whose signed retention end lies before ``today`` and with no hold."""
        return purging.due_records(self._store, self._pins, today or self.today())

    def purge(
        self, today: date | None = None, *, dry_run: bool = False, wait: float = 10.0, expect_key: str | None = None
    ) -> PurgeReport:
        """Delete expired, unheld records whose signed metadata verifies; no passphrase needed.

        Records with a bad signature are listed in ``report.refused`` and left
        alone.  Raises VaultBusy when another process keeps the vault longer than
        ``wait`` seconds, and VerifyKeyChanged when ``expect_key`` (a
        :attr:`verify_key_fingerprint` pinned earlier) no longer matches.
        """
        day = today or self.today()
        if dry_run:
            return purging.dry_run(self._store, self._pins, day, expect_key=expect_key)
        return purging.run(self._purge_target(), day, wait=wait, expect_key=expect_key)

    def _purge_target(self) -> purging.PurgeTarget:
        def push() -> object | None:
            from vault.sync import engine  # lazy: the purge must not load sync's imports

            return engine.push_if_configured(self._sync_parts())

        return purging.PurgeTarget(
            self.path, self._store, self._pins, self._audit, self._clock, self._book.forget, push
        )

    @property
    def verify_key_fingerprint(self) -> str:
        """Short hex fingerprint of the public verify key (pinned by the purge schedule)."""
        return purging.fingerprint(self._ring.verify_key)

    def purge_preview(self, days: int = 30, today: date | None = None) -> list[PreviewRecord]:
        """Records the purge reaches within ``days`` days (:class:`vault.purge.PreviewRecord`)."""
        return purging.preview(self._store, today or self.today(), days)

    def overdue_reviews(self, today: date | None = None) -> list[ReviewDue]:
        """Records whose review date has passed (:class:`vault.purge.ReviewDue`); never deleted."""
        return purging.overdue_reviews(self._store, today or self.today())

    # --- data-subject requests (vault.requests) ------------------------------------------

    def open_request(
        self, type: RequestType | str, record_ids: Iterable[str] = (), *, received: date | None = None, notes: str = ""
    ) -> DataRequest:
        """Record a data-subject request; its deadline is one month after receipt (Art. 12(3))."""
        return self._requests.open(type, record_ids, received=received, notes=notes)

    def list_requests(self, *, include_closed: bool = False) -> list[DataRequest]:
        return self._requests.all(include_closed=include_closed)

    def overdue_requests(self) -> list[DataRequest]:
        return self._requests.overdue()

    def overdue_request_count(self) -> int:
        """Open requests past their deadline; plaintext dates only, so it works while locked."""
        return self._requests.overdue_count()

    def get_request(self, request_id: str) -> DataRequest:
        return self._requests.get(request_id)

    def extend_request(self, request_id: str, *, reason: str) -> DataRequest:
        return self._requests.extend(request_id, reason=reason)

    def close_request(self, request_id: str, *, closed: date | None = None, notes: str = "") -> DataRequest:
        return self._requests.close(request_id, closed=closed, notes=notes)

    # --- export and import (vault.export, vault.importers) --------------------------------
    # The facade imports these packages lazily: commands that do not export or
    # import never load them.

    def find_person(self, *, name: str = "", email: str = "", phone: str = "") -> list[Contact]:
        """Every record (restricted ones too) matching the name, the e-mail or the phone (E.164)."""
        from vault.export import PersonQuery, find_person

        query = PersonQuery.parse(name=name, email=email, phone=phone, region=self.config.region)
        # Decode only the records whose search keys may match (a superset), not all of them.
        keys = self._book.search_keys()
        candidates = (self.get(cid) for cid, key in keys.items() if query.may_match(key[0]))
        return find_person(candidates, name=name, email=email, phone=phone, region=self.config.region)

    def export_person(self, ids: Iterable[str], out_dir: Path, lang: str = "en") -> ExportResult:
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
                    self._audit.add(s, "exported", contact.id)
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
    ) -> ImportReport:
        """Import a vCard or CSV file with one legal basis and rule for the batch.

        Entries matching a stored contact (vCard UID, e-mail, phone) are merged
        or skipped, never duplicated.  With ``dry_run`` nothing is written.  Any
        entry error blocks the whole import unless ``skip_invalid``; what is
        written goes in one transaction.
        """
        from vault import importers

        self._ring.keys  # noqa: B018  (VaultLocked before reading the file)
        chosen = self.rules.get(rule)  # UnknownRule before reading the file
        if not chosen.until_withdrawn and trigger is None:
            raise InvalidInput("trigger", f"the rule {chosen.key} needs a {chosen.trigger_label}")
        path = Path(path)
        kind, parsed, ignored = importers.read_entries(importers.read_file(path), path.name)
        plan = importers.plan_import(
            path.name,
            kind,
            parsed,
            self._book.unsorted(),
            basis=basis,
            rule=rule,
            trigger=trigger,
            source=f"import of the file {path.name} on {self.today().isoformat()}" if source is None else source,
            purpose=purpose,
            validate=self._validated,
            ignored_columns=ignored,
        )
        if dry_run or (plan.has_errors and not skip_invalid):
            return plan.report(committed=False, dry_run=dry_run)
        now = naive_utc(self._clock())
        new = [policy.new_contact(clean, self.rules, now) for clean in plan.new]
        self._book.rewrite_many(
            [(current, replace(current, **policy.draft_fields(clean))) for current, clean in plan.merges.values()],
            "updated",
            "import",
            conflict="a contact was changed elsewhere during the import; nothing was imported",
            added=new,
            added_action="imported",
        )
        return plan.report(committed=True, dry_run=False, new_ids=[c.id for c in new])

    # --- sync (vault.sync.engine) -----------------------------------------------------------

    def _sync_parts(self) -> SyncParts:
        from vault.sync.parts import SyncParts

        return SyncParts(self.path, self._store, self._ring, self._book, self._audit, self._clock)

    @property
    def sync_configured(self) -> bool:
        """True when `sealbook sync setup` has been run for this vault on this device."""
        from vault.sync.parts import is_configured

        return is_configured(self._sync_parts())

    def sync_setup(
        self, url: str, *, user: str = "", password: str | None = None, known_hosts: str = "", identity: str = ""
    ) -> str:
        """Save the sync target (password to the OS keyring or a 0600 file); returns it for display."""
        from vault.sync.parts import configure

        target = configure(
            self._sync_parts(), url, user=user, password=password, known_hosts=known_hosts, identity=identity
        )
        return target.describe()

    def sync_push(self, remote: object = None, *, progress: Progress | None = None) -> SyncReport:
        """Push an encrypted snapshot.  Works while locked (the unattended purge) unless
        the remote has changes this device has not seen: then unlocked it pulls and
        merges first, locked it raises RemoteNewer."""
        from vault.sync import engine

        return engine.push(self._sync_parts(), remote, progress=progress)  # type: ignore[arg-type]

    def sync_pull(self, remote: object = None, *, progress: Progress | None = None) -> SyncReport:
        """Fetch the remote blob and merge it; refuses rollback, fork and foreign blobs."""
        from vault.sync import engine

        return engine.pull(self._sync_parts(), remote, progress=progress)  # type: ignore[arg-type]

    def sync_status(self, *, check_remote: bool = False) -> SyncStatus:
        """Counters, last push/pull, pending local changes; optionally whether the remote moved."""
        from vault.sync import engine

        return engine.status(self._sync_parts(), check_remote=check_remote)

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
        progress: Progress | None = None,
    ) -> tuple[Vault, SyncReport]:
        """Create a local vault at ``path`` from the remote blob and the passphrase, and
        remember the target.  ``url`` may be None when an open ``remote`` is passed."""
        from vault.sync.clone import after_clone, clone
        from vault.sync.parts import remote_for

        with remote_for(url, remote, user, password, known_hosts, identity) as target:
            cloned = clone(target, path, passphrase, local_today(clock), progress=progress)
            vault = cls(path, config=config, clock=clock)
            try:
                vault.unlock(passphrase)
            except BaseException:
                vault.close()
                Path(path).unlink(missing_ok=True)
                raise
            report = after_clone(vault._sync_parts(), cloned, target)
        if url is not None:
            vault.sync_setup(url, user=user, password=password, known_hosts=known_hosts, identity=identity)
        return vault, report


def _check_passphrase(passphrase: str) -> None:
    if not isinstance(passphrase, str) or len(passphrase) < 8:
        raise InvalidInput("passphrase", "must be at least 8 characters")
    if len(passphrase) > 1024:
        raise InvalidInput("passphrase", "must be at most 1024 characters")

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

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from vault import crypto, policy
from vault import purge as purging
from vault.audit import AuditCheck, AuditLog
from vault.book import RecordBook
from vault.clock import Clock, local_today, naive_utc, utc_now
from vault.config import Config
from vault.crypto import KDF_DEFAULT, KDF_FLOOR, KdfParams
from vault.crypto import is_below_floor as kdf_is_below_floor
from vault.errors import SuppressedPerson, VaultNotFound
from vault.head import Pins, fingerprint
from vault.keyring import KeyRing, create_vault_file
from vault.model import AuditEntry, Contact, ContactDraft, EraseResult, LegalBasis, RetentionRule
from vault.purge import DueRecord, PreviewRecord, PurgeReport, ReviewDue
from vault.requests import DataRequest, RequestDesk, RequestType
from vault.rights import Rights
from vault.store.repository import Store
from vault.suppression import Suppressed, SuppressionList
from vault.sync import clone as cloning
from vault.sync import engine
from vault.sync import parts as sync_parts
from vault.sync.parts import SyncParts
from vault.sync.remote import Remote
from vault.sync.report import Progress, SyncReport, SyncStatus

if TYPE_CHECKING:
    from vault.export import ExportResult
    from vault.importers import ImportReport

# Re-exported so front ends can name KDF settings and the clock without importing vault.crypto.
__all__ = ["KDF_DEFAULT", "KDF_FLOOR", "Clock", "DueRecord", "KdfParams", "Vault", "kdf_is_below_floor", "utc_now"]


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
            self._ring = KeyRing(self._store)
        except Exception:
            self._store.close()
            raise
        self._pins = Pins(self._ring.vault_id)
        keep = self.config.log_retention_years  # the audit log, tombstones, closed requests
        root = lambda: None if self._ring.is_locked else self._ring.keys.root  # noqa: E731 - seals audit rows
        self._audit = AuditLog(self._store, clock, self._ring.device_id, vault_id=self._ring.vault_id, root=root,
                               keep_years=keep)  # fmt: skip
        self._book = RecordBook(self._store, self._ring, self._audit, clock, self._pins, keep_years=keep)
        push = self._store.storage_errors()(lambda: engine.push_if_configured(self._sync_parts()))  # full disk: words
        store, pins, audit = self._store, self._pins, self._audit
        self._purge = purging.PurgeTarget(self.path, store, pins, audit, clock, self._book.forget, push, keep)
        listing = SuppressionList(self._store, lambda: self._ring.keys.suppress)
        self._rights = Rights(self._book, self.rules, listing, self.today)
        self._requests = RequestDesk(
            self._store, lambda: self._ring.keys.requests, self._ring.vault_id, self._audit, self.today, self.get
        )

    # --- life cycle (vault.keyring) ---------------------------------------------------

    @classmethod
    def create(cls, path: Path, passphrase: str, *, kdf: KdfParams | None = None, allow_weak_kdf: bool = False,
               config: Config | None = None, clock: Clock = utc_now) -> Vault:  # fmt: skip
        """Create a new vault at ``path`` (never overwrites) and return it unlocked."""
        policy.check_passphrase(passphrase)
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
        """Derive the keys and load every record.  Raises WrongPassphrase, VaultTampered (see
        vault.head), VaultDamaged (key header) or KdfParametersRefused (hostile KDF costs)."""
        self.derive_keys(passphrase)
        self.load_contacts()
        sync_parts.keep_push_key(self._sync_parts())  # for passphrase-less pushes (the purge)
        self._audit.keep_key()  # the purge seals its log rows, `sealbook log` checks them

    def derive_keys(self, passphrase: str) -> None:
        """First half of :meth:`unlock`: KDF and key unwrapping (timed apart by benchmarks)."""
        self._pins.check_key(self._store.read_meta().verify_key)  # before "wrong passphrase" can mislead
        self._ring.unlock(passphrase)

    def lock(self, *, free_later: list[object] | None = None) -> None:
        """Overwrite the keys and drop every decrypted contact (``free_later``: see RecordBook.clear)."""
        self._ring.lock()
        self._book.clear(free_later)

    def change_passphrase(
        self, old: str, new: str, *, kdf: KdfParams | None = None, allow_weak_kdf: bool = False, rotate: bool = False
    ) -> None:
        """Rewrap the root key under a new passphrase (and optionally new KDF costs); with ``rotate``
        replace every key and re-seal every row (vault.rotation), then unlock again if unlocked."""
        from vault.rotation import change_passphrase

        policy.check_passphrase(new)
        was_unlocked = not self.is_locked
        change_passphrase(self._store, self._ring, self._audit, self._pins, old, new, kdf or self.kdf,
                          allow_weak_kdf=allow_weak_kdf, rotate=rotate)  # fmt: skip
        if rotate:
            self.lock()
            if was_unlocked:
                self.unlock(new)

    # --- reading (vault.book) -----------------------------------------------------------

    def load_contacts(self) -> None:
        """(Re)load every record; failing or stale ones (vault.head) go to :attr:`damaged_ids`."""
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

    def _validated(self, draft: ContactDraft, *, before: ContactDraft | None = None) -> ContactDraft:
        return policy.validated(draft, self.rules, self.config.region, self.today(), before=before)

    def add(self, draft: ContactDraft, *, allow_suppressed: bool = False) -> Contact:
        """Validate and store a new contact; returns it with its new id.  Refuses a person on
        the suppression list (SuppressedPerson) unless the owner decided ``allow_suppressed``."""
        return self.add_many([draft], action="created", allow_suppressed=allow_suppressed)[0]

    def add_many(self, drafts: Iterable[ContactDraft], *, action: str = "imported",
                 allow_suppressed: bool = False) -> list[Contact]:  # fmt: skip
        """Store several contacts in one transaction: all or nothing."""
        self._ring.require_unlocked()  # VaultLocked before validating anything
        now = naive_utc(self._clock())
        clean = [self._validated(draft) for draft in drafts]
        hits = () if allow_suppressed else tuple(h for d in clean for h in self._rights.suppressed(d))
        if hits:
            raise SuppressedPerson(hits)
        contacts = [policy.new_contact(draft, self.rules, now) for draft in clean]
        return self._book.insert(contacts, action)

    def suppressed(self, draft: ContactDraft) -> list[Suppressed]:
        """Whether the person in ``draft`` withdrew consent, objected or was erased before."""
        return self._rights.suppressed(self._validated(draft))

    def update(self, record_id: str, draft: ContactDraft, *, keep: Iterable[str] = policy.DEFAULT_KEEP,
               allow_suppressed: bool = False) -> Contact:  # fmt: skip
        """Replace a contact's fields (version + 1, re-signed); withdrawn consent takes effect at once,
        an added e-mail or phone of a suppressed person needs ``allow_suppressed`` (vault.rights)."""
        current = self.get(record_id)
        contact = policy.edited(current, self._validated(draft, before=current.to_draft()), self.rules)
        return self._rights.update(current, contact, frozenset(keep), allow_suppressed=allow_suppressed) or contact

    def restrict(self, record_id: str, *, requested: date | None = None) -> Contact:
        """Restrict a contact (Art. 18): kept, hidden from the working list; ``requested``:
        the day the person asked for it (Art. 18(1)(a)/(d))."""
        return self._rights.restrict(self.get(record_id), requested=requested)

    def unrestrict(self, record_id: str, *, informed: date | None = None) -> Contact:
        """Lift a restriction; one the person asked for needs the day they were told (Art. 18(3))."""
        return self._rights.unrestrict(self.get(record_id), informed=informed)

    def hold(self, record_id: str, *, reason: str = "", requested: date | None = None) -> Contact:
        """A legal hold with its reason: the purge leaves the record until released.
        ``requested``: the person asked for it (Art. 18(1)(b)/(c)); it also restricts."""
        return self._rights.hold(self.get(record_id), reason=reason, requested=requested)

    def release(self, record_id: str, *, informed: date | None = None) -> Contact | None:
        """Lift a hold.  An erasure waiting only for it completes now (returns None)."""
        return self._rights.release(self.get(record_id), informed=informed)

    def reviewed(self, record_id: str) -> Contact:
        """The owner checked a consent record is still needed: sets the next review; never deletes."""
        return self._rights.reviewed(self.get(record_id))

    def erase_preview(self, record_id: str, *, claims_needed: bool = True) -> EraseResult:
        """What :meth:`erase` would do, and why, without doing it."""
        return policy.erase_decision(self.get(record_id), self.rules, self.today(), claims_needed=claims_needed)

    def erase(self, record_id: str, *, keep: Iterable[str] = policy.DEFAULT_KEEP, claims_needed: bool = True,
              requested: date | None = None) -> EraseResult:  # fmt: skip
        """Erasure (Art. 17) the person asked for on ``requested``: delete now, or restrict and keep only
        ``keep`` (policy.KEEPABLE) while a duty or hold applies; completed by the purge or the release."""
        return self._rights.erase(self.get(record_id), keep=frozenset(keep), claims_needed=claims_needed,
                                  requested=requested)  # fmt: skip

    def object(self, record_id: str, *, on: date | None = None, keep: Iterable[str] = policy.DEFAULT_KEEP,
               claims_needed: bool = True) -> EraseResult:  # fmt: skip
        """Objection (Art. 21) received ``on``: recorded, then handled as an erasure request."""
        return self._rights.object(self.get(record_id), on=on, keep=frozenset(keep), claims_needed=claims_needed)

    # --- plaintext-metadata work, possible while locked (vault.audit, vault.purge) ---------

    def audit_log(self, *, action: str | Collection[str] | None = None, since: date | None = None,
                  last: int | None = None) -> list[AuditEntry]:  # fmt: skip
        """The accountability log (Art. 5(2)): record ids and dates, never personal data; ``last``: only the newest."""
        return self._audit.entries(action=action, since=since, last=last)

    def audit_check(self) -> AuditCheck:
        """Whether every log row is as sealbook wrote it (vault.audit); needs no passphrase."""
        return self._audit.check()

    def record_count(self) -> int:
        return self._store.count_contacts()

    def due_for_purge(self, today: date | None = None) -> list[DueRecord]:
        """Records whose signed retention end lies before ``today`` and with no hold."""
        return purging.due_records(self._store, self._pins, today or self.today())

    def purge(
        self, today: date | None = None, *, dry_run: bool = False, wait: float = 10.0, expect_key: str | None = None
    ) -> PurgeReport:
        """Delete expired, unheld records whose signed metadata verifies; no passphrase needed
        (vault.purge: refused records, VaultBusy, VaultTampered, VerifyKeyChanged)."""
        day = today or self.today()
        if dry_run:
            return purging.dry_run(self._purge, day, expect_key=expect_key)
        return purging.run(self._purge, day, wait=wait, expect_key=expect_key)

    @property
    def verify_key_fingerprint(self) -> str:
        """Short hex fingerprint of the public verify key (pinned by the purge schedule)."""
        return fingerprint(self._ring.verify_key)

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

    def extend_request(self, request_id: str, *, reason: str, informed: date) -> DataRequest:
        return self._requests.extend(request_id, reason=reason, informed=informed)

    def close_request(self, request_id: str, *, closed: date | None = None, notes: str = "") -> DataRequest:
        return self._requests.close(request_id, closed=closed, notes=notes)

    # --- export and import (vault.export, vault.importers) --------------------------------
    # The facade imports these packages lazily: commands that do not export or
    # import never load them.

    def find_person(self, *, name: str = "", email: str = "", phone: str = "") -> list[Contact]:
        """Every record (restricted ones too) matching the name, the e-mail or the phone (E.164)."""
        from vault.export.person import find_in_book

        return find_in_book(self._book, name=name, email=email, phone=phone, region=self.config.region)

    def export_person(self, ids: Iterable[str], out_dir: Path, lang: str = "en", *,
                      portability: bool = False) -> ExportResult:  # fmt: skip
        """Write the Art. 15 answer for these records (none: the negative answer), or the Art. 20 export, and log it."""
        from vault.export.job import export_records

        contacts = [self.get(record_id) for record_id in dict.fromkeys(ids)]
        return export_records(contacts, Path(out_dir), store=self._store, audit=self._audit, config=self.config,
                              rules=self.rules, exported_at=self._clock(), today=self.today(), lang=lang,
                              portability=portability)  # fmt: skip

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
        consent_given: date | None = None,
        consent_method: str = "",
        include_suppressed: bool = False,
    ) -> ImportReport:
        """Import a vCard or CSV file, or a folder of .vcf files, with one basis and rule (vault.importers.job); the
        basis consent needs ``consent_given`` and ``consent_method``; listed people only with ``include_suppressed``."""
        from vault.importers.job import import_file

        self._ring.require_unlocked()  # VaultLocked before reading the file
        return import_file(Path(path), book=self._book, rules=self.rules, basis=basis, rule=rule, trigger=trigger,
                           dry_run=dry_run, skip_invalid=skip_invalid, source=source, purpose=purpose,
                           today=self.today(), now=naive_utc(self._clock()), validate=self._validated,
                           suppressed=self._rights.suppressed, consent_given=consent_given,
                           consent_method=consent_method, include_suppressed=include_suppressed,
                           region=self.config.region)  # fmt: skip

    # --- sync (vault.sync) -------------------------------------------------------------------

    def _sync_parts(self) -> SyncParts:
        return SyncParts(self.path, self._store, self._ring, self._book, self._audit, self._clock)

    @property
    def sync_configured(self) -> bool:
        """True when `sealbook sync setup` has been run for this vault on this device."""
        return sync_parts.is_configured(self._sync_parts())

    def sync_setup(
        self, url: str, *, user: str = "", password: str | None = None, known_hosts: str = "", identity: str = ""
    ) -> str:
        """Save the sync target (password to the OS keyring or a 0600 file); returns it for display."""
        return sync_parts.configure(self._sync_parts(), url, user=user, password=password, known_hosts=known_hosts,
                                    identity=identity).describe()  # fmt: skip

    def sync_push(self, remote: Remote | None = None, *, progress: Progress | None = None) -> SyncReport:
        """Push an encrypted snapshot; locked, too (the purge), unless the remote has unseen changes."""
        with self._store.storage_errors():  # the snapshot and temp files beside the vault
            return engine.push(self._sync_parts(), remote, progress=progress)

    def sync_pull(self, remote: Remote | None = None, *, progress: Progress | None = None) -> SyncReport:
        """Fetch the remote blob and merge it; refuses rollback, forged and foreign blobs."""
        with self._store.storage_errors():  # the pulled blob's temp files beside the vault
            return engine.pull(self._sync_parts(), remote, progress=progress)

    def sync_status(self, *, check_remote: bool = False) -> SyncStatus:
        """Counters, last push/pull, pending local changes; optionally whether the remote moved."""
        return engine.status(self._sync_parts(), check_remote=check_remote)

    @classmethod
    def clone_from(cls, url: str | None, path: Path, passphrase: str, *, user: str = "", password: str | None = None,
                   known_hosts: str = "", identity: str = "", remote: Remote | None = None,
                   config: Config | None = None, clock: Clock = utc_now,
                   progress: Progress | None = None) -> tuple[Vault, SyncReport]:  # fmt: skip
        """A new local vault at ``path`` from the remote blob and the passphrase; remembers the
        target (``url`` may be None when an open ``remote`` is passed)."""
        with sync_parts.remote_for(url, remote, user, password, known_hosts, identity) as target:
            cloned = cloning.clone(target, path, passphrase, local_today(clock), progress=progress)
            made = cls(path, config=config, clock=clock)
            try:
                made.unlock(passphrase)
            except BaseException:
                made.close()
                Path(path).unlink(missing_ok=True)
                raise
            report = cloning.after_clone(made._sync_parts(), cloned, target)
        if url is not None:
            made.sync_setup(url, user=user, password=password, known_hosts=known_hosts, identity=identity)
        return made, report

"""Writing many contacts in one transaction (issue 15: an import of 100,000 vCards).

The record book (vault.book) hands its writes here.  Rows are sealed, inserted (or
overwritten) and their audit rows written a chunk at a time, in bulk statements on the
caller's transaction, and each sealed row is dropped as soon as its index-cache tag is
taken: memory holds the contacts and their search keys, never every ciphertext at
once.  Nothing commits here; the caller's transaction stays all or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from sqlalchemy.orm import Session

from vault import causal, crypto
from vault import index as cache
from vault.audit import AuditLog
from vault.errors import ContactNotFound, VaultError
from vault.model import Contact
from vault.sealing import SealedContact
from vault.search import contact_keys
from vault.store.repository import Store

# A record's pending state for the index cache: (contact, row tag, search keys), or None when deleted.
Change = tuple[Contact, str, tuple[str, str]] | None

CHUNK = 1000  # rows sealed and written per bulk statement


class Sealer(Protocol):
    """What seals a contact into its row (vault.sealing.RecordSealer)."""

    def seal(self, contact: Contact) -> SealedContact: ...


class Writer:
    """The parts a bulk write needs: the store, the sealer, the audit log, the row-tag key."""

    def __init__(self, store: Store, sealer: Sealer, audit: AuditLog, row_tag_key: bytes | bytearray) -> None:
        self._store = store
        self._sealer = sealer
        self._audit = audit
        self._tagger = crypto.row_tagger(row_tag_key)

    def _change(self, contact: Contact, row: SealedContact) -> Change:
        return contact, cache.contact_tag(self._tagger, contact, row.meta_sig, row.sealed), contact_keys(contact)

    def add(self, s: Session, contacts: Sequence[Contact], action: str, changes: dict[str, Change]) -> None:
        """Insert new rows for ``contacts`` (and one audit row ``action`` each, in order);
        their index-cache state goes into ``changes``."""
        for start in range(0, len(contacts), CHUNK):
            chunk = contacts[start : start + CHUNK]
            rows = [self._sealer.seal(contact) for contact in chunk]
            self._store.add_contacts(s, rows)
            self._audit.add_many(s, action, [contact.id for contact in chunk])
            for contact, row in zip(chunk, rows, strict=True):
                changes[contact.id] = self._change(contact, row)

    def rewrite(
        self,
        s: Session,
        pairs: Sequence[tuple[Contact, Contact]],
        new: list[Contact],
        device_id: str,
        audit: tuple[str, str],
        conflict: str,
        changes: dict[str, Change],
    ) -> None:
        """Overwrite the rows of ``pairs`` (current, as read) with ``new`` (same positions),
        refusing (VaultError ``conflict``) a row another process changed since it was read.
        Each new version's history is the stored row's plus one write by ``device_id``
        (``new`` is updated in place); ``audit`` is the (action, detail) of each audit row."""
        heads = self._store.contact_heads_in(s, [current.id for current, _ in pairs])
        for start in range(0, len(pairs), CHUNK):
            rows = []
            for i in range(start, min(start + CHUNK, len(pairs))):
                current = pairs[i][0]
                head = heads.get(current.id)
                if head is None:
                    raise ContactNotFound(current.id)
                if head[0] != current.meta_version:
                    raise VaultError(conflict)
                # The stored row's history, whatever copy of the contact the caller held.
                contact = new[i] = replace(new[i], history=causal.bump(head[1], device_id))
                rows.append(self._sealer.seal(contact))
                heads[current.id] = (contact.meta_version, contact.history)  # as the row now stands
                changes[contact.id] = self._change(contact, rows[-1])
            self._store.replace_contacts(s, rows)
            self._audit.add_many(s, audit[0], [pairs[i][0].id for i in range(start, start + len(rows))], audit[1])

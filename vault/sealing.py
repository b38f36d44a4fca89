"""The sealer: turns a Contact into a signed, sealed row and back.

A row's plaintext metadata (id, retention end, review date, hold, version) is
signed with the vault's Ed25519 key, so the passphrase-less purge can check it;
the payload is sealed with XChaCha20-Poly1305 under the record key, with
additional data binding every plaintext column and the signature.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, NamedTuple

from vault import crypto
from vault.errors import VaultDamaged
from vault.i18n import _
from vault.model import Contact
from vault.records import decode_payload, encode_payload, meta_message, record_ad

if TYPE_CHECKING:  # vault.rowopen's child opens rows with this module and no SQLAlchemy
    from vault.keyring import KeyRing
    from vault.store.repository import SealedRow


class SealedContact(NamedTuple):
    """A freshly sealed row's columns (what :meth:`RecordSealer.seal` gives; the store inserts
    them in bulk, vault.store.repository.Store.add_contacts): a tuple, not an ORM object,
    which at 100,000 imported contacts is several times faster and lighter."""

    id: str
    retention_end: date | None
    review_at: date | None
    hold: bool
    meta_version: int
    meta_sig: bytes
    sealed: bytes
    history: bytes


def signature_ok(
    verify_key: bytes,
    vault_id: bytes,
    record_id: str,
    end: date | None,
    hold: bool,
    meta_version: int,
    signature: bytes,
    history: bytes = b"",
) -> bool:
    """True when ``signature`` is the vault's Ed25519 signature over this record's retention metadata."""
    return crypto.verify(verify_key, meta_message(vault_id, record_id, end, hold, meta_version, history), signature)


def open_row(records_key: bytes | bytearray, vault_id: bytes, row: SealedRow) -> Contact:
    """The contact in ``row`` (RecordSealer.open; also vault.rowopen's child, which has the
    key but no key ring); VaultDamaged naming the record id when it does not authenticate."""
    ad = record_ad(
        vault_id,
        "contacts",
        row.id,
        row.meta_version,
        row.retention_end,
        row.review_at,
        row.hold,
        row.meta_sig,
        row.history,
    )
    try:
        raw = crypto.open_sealed(records_key, row.sealed, ad)
        return decode_payload(
            raw,
            record_id=row.id,
            retention_end=row.retention_end,
            review_at=row.review_at,
            hold=bool(row.hold),
            meta_version=row.meta_version,
            history=row.history,
        )
    except (crypto.SealBroken, ValueError, KeyError, TypeError):
        raise VaultDamaged(_("record {id}").format(id=row.id)) from None


class RecordSealer:
    """Seals and opens contact rows with the keys of an unlocked :class:`KeyRing`."""

    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring

    def seal(self, contact: Contact) -> SealedContact:
        """The signed, sealed row of ``contact``."""
        keys = self._ring.keys
        vault_id = self._ring.vault_id
        sig = self._ring.sign(
            meta_message(
                vault_id, contact.id, contact.retention_end, contact.hold, contact.meta_version, contact.history
            ),
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
            contact.history,
        )
        return SealedContact(
            contact.id,
            contact.retention_end,
            contact.review_at,
            contact.hold,
            contact.meta_version,
            sig,
            crypto.seal(keys.records, encode_payload(contact), ad),
            contact.history,
        )

    def open(self, row: SealedRow) -> Contact:
        """The contact in ``row``; VaultDamaged naming the record id when it does not authenticate."""
        return open_row(self._ring.keys.records, self._ring.vault_id, row)

    def sign(self, message: bytes) -> bytes:
        """The vault's Ed25519 signature (tombstones, the manifest head)."""
        return self._ring.sign(message)

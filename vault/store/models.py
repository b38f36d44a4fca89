"""SQLAlchemy 2.x typed models: the only plaintext the vault file holds.

Ids, dates, flags, versions, keys (public or wrapped) and signatures, never a
name, an e-mail, a phone number or a legal basis.  Everything personal lives in
``sealed`` columns.  Changing anything here needs an Alembic revision; the test
suite fails when models and migrations disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Dialect, Integer, LargeBinary, MetaData, String, TypeDecorator, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Defined without SQLAlchemy (vault.store.schema), for the one-shot read path; named here too.
from vault.store.schema import INDEX_BUCKETS as INDEX_BUCKETS
from vault.store.schema import index_bucket as index_bucket

# What a plaintext date or time that does not parse reads as.  It is a real
# value on purpose: every signature and every additional data binds the stored
# date, so a row carrying it fails authentication and is listed as damaged
# (the purge refuses it) while every other row keeps working.
MALFORMED_DATE = date.min
MALFORMED_TIME = datetime.min


def _parsed(parse: Callable[[str], Any], malformed: Any) -> Callable[[object], Any]:
    def process(value: object) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            return malformed
        try:
            return parse(value)
        except ValueError:
            return malformed

    return process


def _strict_date(text: str) -> date:
    if len(text) != 10:
        raise ValueError(text)
    return date.fromisoformat(text)


def _strict_time(text: str) -> datetime:
    if not 19 <= len(text) <= 26 or text[10] != " ":
        raise ValueError(text)
    return datetime.fromisoformat(text)


class SafeDate(TypeDecorator[date]):
    """A DATE column whose reads never raise: a malformed value reads as MALFORMED_DATE."""

    impl = Date
    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[object], Any]:
        return _parsed(_strict_date, MALFORMED_DATE)


class SafeDateTime(TypeDecorator[datetime]):
    """A DATETIME column whose reads never raise: a malformed value reads as MALFORMED_TIME."""

    impl = DateTime
    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[object], Any]:
        return _parsed(_strict_time, MALFORMED_TIME)


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class VaultMetaRow(Base):
    """The key header: one row (id = 1)."""

    __tablename__ = "vault_meta"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    format_version: Mapped[int] = mapped_column(Integer)
    vault_id: Mapped[bytes] = mapped_column(LargeBinary(16))
    kdf_t: Mapped[int] = mapped_column(Integer)
    kdf_m_kib: Mapped[int] = mapped_column(Integer)
    kdf_p: Mapped[int] = mapped_column(Integer)
    kdf_salt: Mapped[bytes] = mapped_column(LargeBinary(16))
    wrapped_root_key: Mapped[bytes] = mapped_column(LargeBinary)
    header_checksum: Mapped[bytes] = mapped_column(LargeBinary(16))
    sync_public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    wrapped_sync_secret_key: Mapped[bytes] = mapped_column(LargeBinary)
    verify_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    wrapped_signing_key: Mapped[bytes] = mapped_column(LargeBinary)
    device_id: Mapped[str] = mapped_column(String(32))
    sync_counter: Mapped[int] = mapped_column(Integer, default=0)
    sync_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    # The signed manifest head (vault.head): a counter every unlocked write raises,
    # and the Ed25519 signature over (vault, device, epoch, manifest digest).
    head_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    head_sig: Mapped[bytes | None] = mapped_column(LargeBinary(64), nullable=True)
    # The manifest's 256 bucket digests (32 bytes each) the head's digest is made of:
    # a write re-hashes only the buckets it changes.
    manifest_digests: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class ContactRow(Base):
    __tablename__ = "contacts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    retention_end: Mapped[date | None] = mapped_column(SafeDate, nullable=True, index=True)
    review_at: Mapped[date | None] = mapped_column(SafeDate, nullable=True, index=True)
    hold: Mapped[bool] = mapped_column(Boolean, default=False)
    meta_version: Mapped[int] = mapped_column(Integer)
    meta_sig: Mapped[bytes] = mapped_column(LargeBinary(64))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    history: Mapped[bytes] = mapped_column(LargeBinary, default=b"", server_default=text("x''"))
    """The version vector of this version (vault.causal), covered by meta_sig."""


class TombstoneRow(Base):
    __tablename__ = "tombstones"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deleted_at: Mapped[datetime] = mapped_column(SafeDateTime)
    reason: Mapped[str] = mapped_column(String(16))
    retention_end: Mapped[date | None] = mapped_column(SafeDate, nullable=True)
    signature: Mapped[bytes | None] = mapped_column(LargeBinary(64), nullable=True)
    """Erasures: the signing key's signature over the erasure (vault.records.tombstone_message)."""
    meta_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    meta_sig: Mapped[bytes | None] = mapped_column(LargeBinary(64), nullable=True)
    """The deleted row's own signed metadata (version, end, hold = 0): verifiable without the passphrase."""
    history: Mapped[bytes] = mapped_column(LargeBinary, default=b"", server_default=text("x''"))
    """The deleted version's version vector, covered by meta_sig."""


class ManifestRow(Base):
    """The newest metadata version of every record, live or tombstoned (vault.head).

    Ids and version numbers only.  Its digest is signed in vault_meta.head_sig,
    so a row copied back from an older file, a deleted row or a planted one is
    noticed by unlock and by the passphrase-less purge.
    """

    __tablename__ = "manifest"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    bucket: Mapped[int] = mapped_column(Integer, index=True)  # index_bucket(id)


class SuppressionRow(Base):
    """The suppression list (Art. 17, 21(3), 7(3)): people who withdrew consent, objected
    or had their data erased, as keyed BLAKE2b digests of a normalised e-mail or E.164
    phone (vault.suppression).  No plaintext: without the key a digest names nobody."""

    __tablename__ = "suppression"

    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    reason: Mapped[str] = mapped_column(String(16))
    since: Mapped[date] = mapped_column(SafeDate)


class AuditRow(Base):
    __tablename__ = "audit"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(SafeDateTime, index=True)
    action: Mapped[str] = mapped_column(String(16), index=True)
    record_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    device: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(64), default="")
    mac: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    """The row's seal (vault.audit): the row before it, and a MAC under the audit key."""


class RequestRow(Base):
    """A data-subject request (Art. 12(3) deadline tracking): dates in plaintext,
    type, record ids and notes sealed (AD binds table "requests", id and dates)."""

    __tablename__ = "requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    opened: Mapped[date] = mapped_column(SafeDate)
    deadline: Mapped[date] = mapped_column(SafeDate, index=True)
    closed: Mapped[date | None] = mapped_column(SafeDate, nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class IndexBucketRow(Base):
    """The sealed list/search cache (vault.index): one AEAD seal per bucket of
    records (bucket = crc32(record id) mod 256).  A cache only: the contacts
    rows stay the source of truth, and a bucket that does not open is rebuilt."""

    __tablename__ = "index_cache"

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)

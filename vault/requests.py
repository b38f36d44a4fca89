"""Data-subject requests: what came in, when, and the Art. 12(3) deadline.

A request is stored like a contact: the dates (received, deadline, closed) are
plaintext so the owner can be warned about deadlines, everything else (the
type, the record ids it concerns, notes) is sealed with its own key and
additional data that binds it to the table "requests", its id and its dates.
Nothing here reads a clock: "today" is always a parameter.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault import crypto
from vault.audit import AuditLog
from vault.errors import InvalidInput, RequestNotFound, VaultDamaged, VaultError
from vault.i18n import _
from vault.model import MAX_NOTES, clean_text
from vault.model import RequestStatus as RequestStatus  # defined with the domain objects, named here too
from vault.model import RequestType as RequestType
from vault.records import FORMAT_VERSION
from vault.retention import add_months
from vault.store.models import RequestRow
from vault.store.repository import Store

REQUEST_PAYLOAD_VERSION = 2  # 2 adds "informed" (issue 11, 14); version 1 payloads are still read
_READABLE_VERSIONS = (1, 2)
DEADLINE_MONTHS = 1  # Art. 12(3) GDPR: "within one month of receipt"
EXTENSION_MONTHS = 2  # Art. 12(3): "may be extended by two further months where necessary"
DUE_SOON_DAYS = 7  # warn a week before the deadline
MAX_REQUEST_RECORDS = 1000
KEY_LABEL = b"requests"  # 8 bytes: the purpose label of the request key


@dataclass(frozen=True)
class DataRequest:
    """One data-subject request, decrypted."""

    id: str
    type: RequestType
    received: date
    deadline: date
    record_ids: tuple[str, ...] = ()
    notes: str = ""
    closed: date | None = None
    version: int = 1
    informed: date | None = None
    """When the person was told of the extension and its reasons (Art. 12(3) sentence 3); None when not extended."""

    @property
    def is_closed(self) -> bool:
        return self.closed is not None

    @property
    def is_extended(self) -> bool:
        """True once the deadline was extended by two months (Art. 12(3) sentence 2)."""
        return self.deadline > deadline_for(self.received)

    def days_left(self, today: date) -> int:
        """Days until the deadline (negative once overdue)."""
        return (self.deadline - today).days

    def status(self, today: date) -> RequestStatus:
        if self.closed is not None:
            return RequestStatus.CLOSED
        left = self.days_left(today)
        if left < 0:
            return RequestStatus.OVERDUE
        if left <= DUE_SOON_DAYS:
            return RequestStatus.DUE_SOON
        return RequestStatus.OPEN

    def is_overdue(self, today: date) -> bool:
        return self.status(today) is RequestStatus.OVERDUE


def deadline_for(received: date) -> date:
    """Art. 12(3): one month after receipt (31 Jan -> 28/29 Feb)."""
    return add_months(received, DEADLINE_MONTHS)


def extended_deadline(deadline: date) -> date:
    """Art. 12(3): the original deadline "extended by two further months".

    Counted from the original deadline, not from receipt, so month ends differ:
    received 31 Jan 2026 -> deadline 28 Feb -> extended 28 Apr (not 30 Apr).
    """
    return add_months(deadline, EXTENSION_MONTHS)


def parse_type(value: str | RequestType) -> RequestType:
    if isinstance(value, RequestType):
        return value
    try:
        return RequestType(value.strip().lower())
    except ValueError:
        choices = ", ".join(t.value for t in RequestType)
        raise InvalidInput("request type", _("must be one of {choices}").format(choices=choices)) from None


def clean_notes(notes: str) -> str:
    return clean_text(notes, "notes", MAX_NOTES, multiline=True)


def check_record_ids(record_ids: tuple[str, ...]) -> tuple[str, ...]:
    if len(record_ids) > MAX_REQUEST_RECORDS:
        raise InvalidInput("records", _("at most {count} records per request").format(count=MAX_REQUEST_RECORDS))
    return tuple(dict.fromkeys(record_ids))


# --- sealing ------------------------------------------------------------------


def request_key(root: bytes | bytearray) -> bytes:
    """The key that seals requests (one key per purpose)."""
    return crypto.derive_subkey(root, KEY_LABEL)


def _d(value: date | None) -> str:
    return value.isoformat() if value else ""


def request_ad(vault_id: bytes, row_id: str, opened: date, deadline: date, closed: date | None, version: int) -> bytes:
    """Additional data: binds the sealed part to its row and plaintext dates."""
    return crypto.pae(
        b"sealbook-request-v1",
        FORMAT_VERSION,
        vault_id,
        "requests",
        row_id,
        _d(opened),
        _d(deadline),
        _d(closed),
        version,
    )


def encode(request: DataRequest) -> bytes:
    data: dict[str, Any] = {
        "v": REQUEST_PAYLOAD_VERSION,
        "type": request.type.value,
        "record_ids": list(request.record_ids),
        "notes": request.notes,
        "informed": _d(request.informed),
    }
    return crypto.pad(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def seal_row(request: DataRequest, key: bytes | bytearray, vault_id: bytes) -> RequestRow:
    ad = request_ad(vault_id, request.id, request.received, request.deadline, request.closed, request.version)
    return RequestRow(
        id=request.id,
        opened=request.received,
        deadline=request.deadline,
        closed=request.closed,
        version=request.version,
        sealed=crypto.seal(key, encode(request), ad),
    )


def open_row(row: RequestRow, key: bytes | bytearray, vault_id: bytes) -> DataRequest:
    """Decrypt a stored request; any failure is VaultDamaged naming the request id."""
    ad = request_ad(vault_id, row.id, row.opened, row.deadline, row.closed, row.version)
    try:
        raw = crypto.open_sealed(key, row.sealed, ad)
        data = json.loads(raw if raw.endswith(b"}") else crypto.unpad(raw))  # unpadded: sealed before padding
        if data.get("v") not in _READABLE_VERSIONS:
            raise ValueError("unsupported request payload")
        informed = data.get("informed") or ""  # absent in version 1 payloads
        return DataRequest(
            id=row.id,
            type=RequestType(data["type"]),
            received=row.opened,
            deadline=row.deadline,
            record_ids=tuple(str(i) for i in data["record_ids"]),
            notes=str(data["notes"]),
            closed=row.closed,
            version=row.version,
            informed=date.fromisoformat(str(informed)) if informed else None,
        )
    except (crypto.SealBroken, ValueError, KeyError, TypeError):
        raise VaultDamaged(_("request {id}").format(id=row.id)) from None


# --- storage (inside a transaction the facade opens) ----------------------------


def stored_rows(session: Session) -> list[RequestRow]:
    return list(session.scalars(select(RequestRow).order_by(RequestRow.deadline, RequestRow.id)))


def stored_row(session: Session, request_id: str) -> RequestRow | None:
    return session.get(RequestRow, request_id)


def matching_ids(session: Session, prefix: str) -> list[str]:
    """Request ids equal to, or starting with, ``prefix`` (at least 4 characters)."""
    if len(prefix) > 36:  # longer than any id (a uuid4); SQLite refuses LIKE patterns over 50,000 bytes
        return []
    if len(prefix) < 4:
        row = session.get(RequestRow, prefix)
        return [row.id] if row else []
    ids = list(session.scalars(select(RequestRow.id).where(RequestRow.id.startswith(prefix, autoescape=True))))
    return [prefix] if prefix in ids else ids


# --- the desk: open, list, extend and close requests ------------------------------


class RequestDesk:
    """Data-subject requests of one vault (Art. 12(3) deadline tracking).

    Receives what it needs: the store, the request key (read at each call, so a
    locked vault refuses), the vault id, the audit log, today's date and a check
    that a record id exists.
    """

    def __init__(
        self,
        store: Store,
        key: Callable[[], bytes | bytearray],
        vault_id: bytes,
        audit: AuditLog,
        today: Callable[[], date],
        record_exists: Callable[[str], object],
    ) -> None:
        self._store = store
        self._key = key
        self._vault_id = vault_id
        self._audit = audit
        self._today = today
        self._record_exists = record_exists

    def open(
        self,
        type: RequestType | str,
        record_ids: Iterable[str] = (),
        *,
        received: date | None = None,
        notes: str = "",
    ) -> DataRequest:
        """Record a data-subject request; its deadline is one month after receipt (Art. 12(3))."""
        key = self._key()
        today = self._today()
        received = received or today
        if received > today:
            raise InvalidInput("received", _("lies in the future"))
        ids = check_record_ids(tuple(record_ids))
        for record_id in ids:
            self._record_exists(record_id)
        request = DataRequest(
            id=str(uuid.uuid4()),
            type=parse_type(type),
            received=received,
            deadline=deadline_for(received),
            record_ids=ids,
            notes=clean_notes(notes),
        )
        with self._store.session() as s:
            s.add(seal_row(request, key, self._vault_id))
            self._audit.add(s, "request-opened", None, request.id)
        return request

    def all(self, *, include_closed: bool = False) -> list[DataRequest]:
        """Requests by deadline (open ones only unless ``include_closed``)."""
        key = self._key()
        with self._store.session() as s:
            return [
                open_row(row, key, self._vault_id) for row in stored_rows(s) if include_closed or row.closed is None
            ]

    def overdue(self) -> list[DataRequest]:
        """Open requests whose Art. 12(3) deadline has passed."""
        today = self._today()
        return [r for r in self.all() if r.is_overdue(today)]

    def overdue_count(self) -> int:
        """How many open requests are past their deadline; plaintext dates only, so it works while locked."""
        today = self._today()
        with self._store.session() as s:
            return sum(1 for row in stored_rows(s) if row.closed is None and row.deadline < today)

    def get(self, request_id: str) -> DataRequest:
        """A request by id or unambiguous id prefix (at least 4 characters)."""
        key = self._key()
        with self._store.session() as s:
            hits = matching_ids(s, request_id)
            if len(hits) > 1:
                raise InvalidInput("request", _("the id prefix is ambiguous"))
            row = stored_row(s, hits[0]) if hits else None
            if row is None:
                raise RequestNotFound(request_id)
            return open_row(row, key, self._vault_id)

    def extend(self, request_id: str, *, reason: str, informed: date) -> DataRequest:
        """Extend the deadline by two further months (Art. 12(3) sentence 2): once, with the
        reason, and the day the person was told of it (sentence 3: within one month of receipt).

        The new deadline is the original deadline plus two months (:func:`extended_deadline`).
        What counts is when the person was told, not when the owner records it, so an
        extension told in time may be recorded later; one told after the original
        deadline, before receipt or on a day still to come is refused.
        """
        current = self.get(request_id)
        reason = clean_notes(reason)
        if not reason:
            raise InvalidInput("reason", _("the person must be told why the answer takes longer"))
        if current.is_closed or current.is_extended:
            raise InvalidInput("request", _("is closed or already extended"))
        if informed > self._today():
            raise InvalidInput("informed", _("lies in the future"))
        if informed < current.received or informed > current.deadline:
            raise InvalidInput("informed", _("the person must be told within one month of receipt"))
        extended = _("Extended: {reason}").format(reason=reason)
        notes = clean_notes(f"{current.notes}\n{extended}" if current.notes else extended)
        new = replace(
            current,
            deadline=extended_deadline(current.deadline),
            notes=notes,
            version=current.version + 1,
            informed=informed,
        )
        return self._save(current, new, "request-extended")

    def close(self, request_id: str, *, closed: date | None = None, notes: str = "") -> DataRequest:
        """Mark a request answered (``notes`` are appended to its notes)."""
        current = self.get(request_id)
        if current.is_closed:
            raise InvalidInput("request", _("is already closed"))
        today = self._today()
        closed = closed or today
        if closed < current.received or closed > today:
            raise InvalidInput("closed", _("must lie between the day received and today"))
        extra = clean_notes(notes)
        merged = f"{current.notes}\n{extra}" if current.notes and extra else current.notes or extra
        new = replace(current, closed=closed, notes=clean_notes(merged), version=current.version + 1)
        return self._save(current, new, "request-closed")

    def _save(self, current: DataRequest, new: DataRequest, action: str) -> DataRequest:
        """Re-seal a changed request, refusing if another process changed it meanwhile."""
        key = self._key()
        with self._store.session() as s:
            row = stored_row(s, current.id)
            if row is None or row.version != current.version:
                raise VaultError(_("the request was changed elsewhere; reload and try again"))
            fresh = seal_row(new, key, self._vault_id)
            row.deadline, row.closed = fresh.deadline, fresh.closed
            row.version, row.sealed = fresh.version, fresh.sealed
            self._audit.add(s, action, None, current.id)
        return new

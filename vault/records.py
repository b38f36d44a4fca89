"""Encoding of a contact's sealed payload and of the bytes that bind it.

The payload is compact JSON (stdlib, deterministic, easy to migrate).  The
additional data of the AEAD and the signed metadata message are PAE encodings,
so no field can be moved or swapped without failing authentication.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from vault.crypto import pad, pae, unpad
from vault.model import Contact, Duty, LegalBasis, State

FORMAT_VERSION = 1
PAYLOAD_VERSION = 2  # 2 adds the issue-11 fields (extra duties, consent method, erasure, objection, hold)
READABLE_PAYLOADS = (1, 2)


def _d(value: date | None) -> str:
    return value.isoformat() if value else ""


def _pd(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def encode_payload(c: Contact) -> bytes:
    data: dict[str, Any] = {
        "v": PAYLOAD_VERSION,
        "name": c.name,
        "emails": list(c.emails),
        "phones": list(c.phones),
        "org": c.org,
        "notes": c.notes,
        "source": c.source,
        "purpose": c.purpose,
        "basis": c.basis.value,
        "rule": c.rule,
        "trigger": _d(c.trigger),
        "consent_given": _d(c.consent_given),
        "consent_withdrawn": _d(c.consent_withdrawn),
        "uid": c.uid,
        "state": c.state.value,
        "created": c.created.isoformat(),
        "updated": c.updated.isoformat(),
    }
    data.update(extra_fields(c))
    # Padded to 64-byte blocks, so a sealed row's length does not give away field lengths.
    return pad(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def decode_payload(
    raw: bytes,
    *,
    record_id: str,
    retention_end: date | None,
    review_at: date | None,
    hold: bool,
    meta_version: int,
    history: bytes = b"",
) -> Contact:
    # Payloads sealed before padding existed end with the JSON's closing brace.
    d = json.loads(raw if raw.endswith(b"}") else unpad(raw))
    if d.get("v") not in READABLE_PAYLOADS:
        raise ValueError("unsupported payload version")
    return with_extra_fields(
        Contact(
            id=record_id,
            name=d["name"],
            basis=LegalBasis(d["basis"]),
            rule=d["rule"],
            trigger=_pd(d["trigger"]),
            retention_end=retention_end,
            review_at=review_at,
            emails=tuple(d["emails"]),
            phones=tuple(d["phones"]),
            org=d["org"],
            notes=d["notes"],
            source=d["source"],
            purpose=d["purpose"],
            consent_given=_pd(d["consent_given"]),
            consent_withdrawn=_pd(d["consent_withdrawn"]),
            uid=d["uid"],
            state=State(d["state"]),
            hold=hold,
            meta_version=meta_version,
            history=history,
            created=datetime.fromisoformat(d["created"]),
            updated=datetime.fromisoformat(d["updated"]),
        ),
        d,
    )


def extra_fields(c: Contact) -> dict[str, Any]:
    """The payload-2 fields that differ from their defaults (version-1 payloads have none)."""
    data: dict[str, Any] = {}
    if c.consent_method:
        data["consent_method"] = c.consent_method
    if c.duties:
        data["duties"] = [[d.rule, d.trigger.isoformat()] for d in c.duties]
    for name in ("erasure_requested", "objected", "restriction_requested", "reviewed"):
        value = getattr(c, name)
        if value is not None:
            data[name] = value.isoformat()
    if c.hold_reason:
        data["hold_reason"] = c.hold_reason
    return data


def with_extra_fields(c: Contact, d: dict[str, Any]) -> Contact:
    """``c`` with the payload-2 fields found in ``d`` (absent ones keep their defaults)."""
    if not any(k in d for k in _EXTRA_KEYS):
        return c
    return replace(
        c,
        consent_method=d.get("consent_method", ""),
        duties=tuple(Duty(rule, date.fromisoformat(day)) for rule, day in d.get("duties", ())),
        erasure_requested=_pd(d.get("erasure_requested")),
        objected=_pd(d.get("objected")),
        restriction_requested=_pd(d.get("restriction_requested")),
        reviewed=_pd(d.get("reviewed")),
        hold_reason=d.get("hold_reason", ""),
    )


_EXTRA_KEYS = ("consent_method", "duties", "erasure_requested", "objected", "restriction_requested", "reviewed",
               "hold_reason")  # fmt: skip


def meta_message(
    vault_id: bytes, record_id: str, retention_end: date | None, hold: bool, meta_version: int, history: bytes = b""
) -> bytes:
    """What the Ed25519 metadata signature covers (checked by the unattended purge).

    ``history`` is the version's causal history (vault.causal); rows written before
    histories existed have none and keep the v1 message they were signed with.
    """
    if not history:
        return pae(b"sealbook-meta-v1", vault_id, record_id, _d(retention_end), int(hold), meta_version)
    return pae(b"sealbook-meta-v2", vault_id, record_id, _d(retention_end), int(hold), meta_version, history)


def record_ad(
    vault_id: bytes,
    table: str,
    record_id: str,
    meta_version: int,
    retention_end: date | None,
    review_at: date | None,
    hold: bool,
    meta_sig: bytes,
    history: bytes = b"",
) -> bytes:
    """Additional data of a sealed record: binds it to its row and plaintext metadata
    (and to its causal history, when it has one: v2)."""
    parts = (FORMAT_VERSION, vault_id, table, record_id, meta_version, _d(retention_end), _d(review_at), int(hold))
    if not history:
        return pae(b"sealbook-record-v1", *parts, meta_sig)
    return pae(b"sealbook-record-v2", *parts, meta_sig, history)


def tombstone_message(vault_id: bytes, record_id: str, reason: str, deleted_at: datetime, meta_version: int) -> bytes:
    """What the signing key signs when the owner erases a record: which version went, why and when."""
    return pae(b"sealbook-tombstone-v2", vault_id, record_id, reason, deleted_at.isoformat(), meta_version)

"""The machine-readable copy of the data (Art. 15(3), Art. 20 GDPR).

- ``data.json``: every stored field, validated by the shipped JSON Schema
  (``vault/schemas/data-v2.schema.json``, :func:`load_schema`);
- ``contacts.vcf``: vCard 4.0 (RFC 6350);
- ``contacts.csv``: the same as a spreadsheet, formula prefixes escaped.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from importlib import resources
from typing import Any

from vault.config import Config
from vault.errors import UnknownRule
from vault.export.catalogue import check_lang
from vault.model import Contact, RetentionRule
from vault.retention import RuleBook, purge_from, retention_end

# Version 2 (issue 11): consent.method, retention.duties/periods/hold_reason/reviewed
# and requests.  data-v1.schema.json stays shipped for exports written before.
SCHEMA_VERSION = 2
SCHEMA_RESOURCE = "data-v2.schema.json"

# Cells starting with these are formulas to spreadsheet programs (OWASP ASVS
# 1.2.10 / "CSV injection"); sealbook prefixes them with an apostrophe.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")

# Which part of data.json holds each Contact field.  A test compares this with
# the Contact dataclass, so a new stored field cannot be forgotten here.
FIELD_PATHS: dict[str, str] = {
    "id": "id",
    "name": "name",
    "emails": "emails",
    "phones": "phones",
    "org": "organisation",
    "notes": "notes",
    "source": "source",
    "purpose": "purpose",
    "basis": "legal_basis.code",
    "rule": "retention.rule",
    "trigger": "retention.trigger",
    "retention_end": "retention.retention_end",
    "review_at": "retention.review_at",
    "hold": "retention.hold",
    "hold_reason": "retention.hold_reason",
    "reviewed": "retention.reviewed",
    "duties": "retention.duties",
    "consent_given": "consent.given",
    "consent_withdrawn": "consent.withdrawn",
    "consent_method": "consent.method",
    "erasure_requested": "requests.erasure_requested",
    "objected": "requests.objected",
    "restriction_requested": "requests.restriction_requested",
    "uid": "uid",
    "state": "state",
    "meta_version": "meta_version",
    "history": "history",
    "created": "created",
    "updated": "updated",
}


def load_schema() -> dict[str, Any]:
    """The JSON Schema data.json follows (shipped inside the package)."""
    text = resources.files("vault.schemas").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def csv_cell(value: str) -> str:
    """A cell spreadsheet programs will not run as a formula."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def known_rule(rules: RuleBook, key: str) -> RetentionRule | None:
    """The rule ``key`` of ``rules``, or None when the book does not know it."""
    try:
        return rules.get(key)
    except UnknownRule:
        return None


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


# --- data.json ----------------------------------------------------------------------


def period_json(key: str, trigger: date | None, rules: RuleBook) -> dict[str, Any]:
    """One (rule, trigger) pair of a record with the end it gives and, when it keeps the
    record despite an erasure request, on which ground (Art. 17(3)(b) or (e) GDPR)."""
    rule = known_rule(rules, key)
    return {
        "rule": key,
        "label": rule.label if rule else "",
        "reference": rule.reference if rule else "",
        "trigger_label": rule.trigger_label if rule else "",
        "trigger": _iso(trigger),
        "retention_end": _iso(retention_end(rule, trigger)) if rule else None,
        "erasure_exception": rule.erasure_ground if rule and rule.obliges else None,
    }


def record_json(contact: Contact, rules: RuleBook) -> dict[str, Any]:
    """Every stored field of one record (see FIELD_PATHS), owner-internal ones too
    (hold reason, last review): the Art. 15 copy is complete."""
    rule = known_rule(rules, contact.rule)
    return {
        "id": contact.id,
        "name": contact.name,
        "emails": list(contact.emails),
        "phones": list(contact.phones),
        "organisation": contact.org,
        "notes": contact.notes,
        "source": contact.source,
        "purpose": contact.purpose,
        "legal_basis": {
            "code": contact.basis.value,
            "article": contact.basis.article,
            "description": contact.basis.describe("en"),
        },
        "retention": {
            "rule": contact.rule,
            "label": rule.label if rule else "",
            "reference": rule.reference if rule else "",
            "trigger": _iso(contact.trigger),
            "retention_end": _iso(contact.retention_end),
            "purge_from": _iso(purge_from(contact.retention_end)),
            "review_at": _iso(contact.review_at),
            "reviewed": _iso(contact.reviewed),
            "hold": contact.hold,
            "hold_reason": contact.hold_reason,
            "duties": [{"rule": d.rule, "trigger": d.trigger.isoformat()} for d in contact.duties],
            "periods": [period_json(key, trigger, rules) for key, trigger in contact.pairs()],
        },
        "consent": {
            "given": _iso(contact.consent_given),
            "withdrawn": _iso(contact.consent_withdrawn),
            "method": contact.consent_method,
        },
        "requests": {
            "erasure_requested": _iso(contact.erasure_requested),
            "objected": _iso(contact.objected),
            "restriction_requested": _iso(contact.restriction_requested),
        },
        "uid": contact.uid,
        "state": contact.state.value,
        "meta_version": contact.meta_version,
        "history": contact.history.hex(),
        "created": contact.created.isoformat(),
        "updated": contact.updated.isoformat(),
    }


def data_document(
    contacts: Sequence[Contact], config: Config, rules: RuleBook, exported_at: datetime, lang: str
) -> dict[str, Any]:
    """The whole of data.json: the controller, the recipients and every record."""
    return {
        "format": "sealbook-export",
        "schema_version": SCHEMA_VERSION,
        "exported_at": exported_at.isoformat(),
        "language": check_lang(lang),
        "controller": {
            "name": config.controller_name,
            "address": config.controller_address,
            "email": config.controller_email,
            "supervisory_authority": config.supervisory_authority,
        },
        "recipients": [
            {"name": p.name, "purpose": p.purpose_in(lang), "country": p.country} for p in config.processors
        ],
        "records": [record_json(c, rules) for c in contacts],
    }


# --- contacts.vcf (vCard 4.0, RFC 6350) ----------------------------------------------------


def _vtext(value: str) -> str:
    """RFC 6350 3.4 text escaping."""
    return (
        value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\r\n", "\n").replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Fold at 75 octets without splitting a UTF-8 sequence (RFC 6350 3.2)."""
    out: list[str] = []
    current, size = "", 0
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > 75:
            out.append(current)
            current, size = " ", 1
        current += ch
        size += width
    out.append(current)
    return "\r\n".join(out) + "\r\n"


def vcard_uid(contact: Contact) -> str:
    """The vCard UID of a record: the one it was imported with, else its id as a URN."""
    return contact.uid or f"urn:uuid:{contact.id}"


def vcard(contacts: Iterable[Contact], *, owner_fields: bool = True) -> str:
    """The records as vCard 4.0; sealbook's own fields as X-SEALBOOK-* properties.

    Without ``owner_fields`` (the Art. 20 export) only what the person provided
    is written: name, e-mails, phones, organisation; no notes, ids or metadata.
    """
    lines: list[str] = []
    for c in contacts:
        props = ["BEGIN:VCARD", "VERSION:4.0"]
        if owner_fields:
            props.append(f"UID:{_vtext(vcard_uid(c))}")
        props.append(f"FN:{_vtext(c.name)}")
        props += [f"EMAIL:{_vtext(e)}" for e in c.emails]
        props += [f"TEL;VALUE=uri:tel:{p}" for p in c.phones]
        if c.org:
            props.append(f"ORG:{_vtext(c.org)}")
        if not owner_fields:
            props.append("END:VCARD")
            lines.extend(_fold(p) for p in props)
            continue
        if c.notes:
            props.append(f"NOTE:{_vtext(c.notes)}")
        props.append(f"REV:{c.updated.strftime('%Y%m%dT%H%M%SZ')}")
        extra = {
            "X-SEALBOOK-ID": c.id,
            "X-SEALBOOK-BASIS": c.basis.value,
            "X-SEALBOOK-RULE": c.rule,
            "X-SEALBOOK-TRIGGER": _iso(c.trigger) or "",
            "X-SEALBOOK-RETENTION-END": _iso(c.retention_end) or "",
            "X-SEALBOOK-STATE": c.state.value,
            "X-SEALBOOK-SOURCE": c.source,
            "X-SEALBOOK-PURPOSE": c.purpose,
        }
        props += [f"{key}:{_vtext(value)}" for key, value in extra.items() if value]
        props.append("END:VCARD")
        lines.extend(_fold(p) for p in props)
    return "".join(lines)


# --- contacts.csv ---------------------------------------------------------------------

CSV_COLUMNS = (
    "id",
    "name",
    "emails",
    "phones",
    "organisation",
    "notes",
    "source",
    "purpose",
    "legal_basis",
    "retention_rule",
    "trigger",
    "retention_end",
    "state",
)


def contacts_csv(contacts: Iterable[Contact]) -> str:
    """The records as CSV (multiple e-mails/phones joined by ' ::: ', as Google does)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for c in contacts:
        row = [
            c.id,
            c.name,
            " ::: ".join(c.emails),
            " ::: ".join(c.phones),
            c.org,
            c.notes,
            c.source,
            c.purpose,
            c.basis.value,
            c.rule,
            _iso(c.trigger) or "",
            _iso(c.retention_end) or "",
            c.state.value,
        ]
        writer.writerow([csv_cell(v) for v in row])
    return buffer.getvalue()

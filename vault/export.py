"""The answer to an access (Art. 15) or portability (Art. 20) request.

:func:`build_export` turns the records of one person into the files of the
export folder; :func:`write_export` puts them on disk (folder 0700, files
0600, all or nothing).  Pure functions of their inputs: no clock, no vault.

Files:
- ``data.json``: every stored field, validated by the shipped JSON Schema
  (``vault/schemas/data-v1.schema.json``, :func:`load_schema`);
- ``contacts.vcf``: vCard 4.0 (RFC 6350);
- ``contacts.csv``: the same as a spreadsheet, formula prefixes escaped;
- ``answer.txt`` / ``answer.html``: the letter with Art. 15(1)(a)-(h).
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from vault.config import Config, Processor
from vault.errors import InvalidInput, UnknownRule, VaultError
from vault.model import Contact, LegalBasis, RetentionRule, format_phone
from vault.retention import RuleBook, purge_from

SCHEMA_VERSION = 1
SCHEMA_RESOURCE = "data-v1.schema.json"
LANGUAGES = ("de", "en")
DATA_FILE = "data.json"
VCARD_FILE = "contacts.vcf"
CSV_FILE = "contacts.csv"
TEXT_FILE = "answer.txt"
HTML_FILE = "answer.html"
EXPORT_FILES = (DATA_FILE, VCARD_FILE, CSV_FILE, TEXT_FILE, HTML_FILE)

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
    "consent_given": "consent.given",
    "consent_withdrawn": "consent.withdrawn",
    "uid": "uid",
    "state": "state",
    "meta_version": "meta_version",
    "created": "created",
    "updated": "updated",
}

# EU and EEA member states: processors elsewhere are third-country recipients.
_EEA = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IS",
        "IT",
        "LI",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "NO",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)


class ExportFailed(VaultError):
    """The export could not be written; no partial export folder was left behind."""


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: the folder, its files and the records in it (ids only)."""

    out_dir: Path
    files: tuple[str, ...]
    record_ids: tuple[str, ...]


# --- helpers ----------------------------------------------------------------------


def load_schema() -> dict[str, Any]:
    """The JSON Schema data.json follows (shipped inside the package)."""
    text = resources.files("vault.schemas").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def csv_cell(value: str) -> str:
    """A cell spreadsheet programs will not run as a formula."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _rule(rules: RuleBook, key: str) -> RetentionRule | None:
    try:
        return rules.get(key)
    except UnknownRule:
        return None


def _check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise InvalidInput("language", "must be de or en")
    return lang


# --- data.json ----------------------------------------------------------------------


def record_json(contact: Contact, rule: RetentionRule | None) -> dict[str, Any]:
    """Every stored field of one record (see FIELD_PATHS)."""
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
            "hold": contact.hold,
        },
        "consent": {"given": _iso(contact.consent_given), "withdrawn": _iso(contact.consent_withdrawn)},
        "uid": contact.uid,
        "state": contact.state.value,
        "meta_version": contact.meta_version,
        "created": contact.created.isoformat(),
        "updated": contact.updated.isoformat(),
    }


def data_document(
    contacts: Sequence[Contact], config: Config, rules: RuleBook, exported_at: datetime, lang: str
) -> dict[str, Any]:
    return {
        "format": "sealbook-export",
        "schema_version": SCHEMA_VERSION,
        "exported_at": exported_at.isoformat(),
        "language": _check_lang(lang),
        "controller": {
            "name": config.controller_name,
            "address": config.controller_address,
            "email": config.controller_email,
            "supervisory_authority": config.supervisory_authority,
        },
        "recipients": [{"name": p.name, "purpose": p.purpose, "country": p.country} for p in config.processors],
        "records": [record_json(c, _rule(rules, c.rule)) for c in contacts],
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
    return contact.uid or f"urn:uuid:{contact.id}"


def vcard(contacts: Iterable[Contact]) -> str:
    """The records as vCard 4.0; sealbook's own fields as X-SEALBOOK-* properties."""
    lines: list[str] = []
    for c in contacts:
        props = [
            "BEGIN:VCARD",
            "VERSION:4.0",
            f"UID:{_vtext(vcard_uid(c))}",
            f"FN:{_vtext(c.name)}",
        ]
        props += [f"EMAIL:{_vtext(e)}" for e in c.emails]
        props += [f"TEL;VALUE=uri:tel:{p}" for p in c.phones]
        if c.org:
            props.append(f"ORG:{_vtext(c.org)}")
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


# --- the letter ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One part of the letter: a heading, paragraphs, and optional records."""

    key: str
    heading: str
    paragraphs: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    records: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()


@dataclass(frozen=True)
class Letter:
    lang: str
    title: str
    sender: tuple[str, ...]
    date_line: str
    sections: tuple[Section, ...] = field(default_factory=tuple)
    closing: tuple[str, ...] = ()


_T: dict[str, dict[str, str]] = {
    "en": {
        "title": "Your request for access to your personal data (Art. 15 GDPR)",
        "not_configured": "(not configured)",
        "date": "Date: {date}",
        "intro_h": "Our answer",
        "intro": (
            "You asked which personal data we hold about you. This letter answers your request under "
            "Art. 15 GDPR. We found {n} record(s) about you. A copy of the data is enclosed in a commonly "
            "used, machine-readable form (Art. 15(3) and Art. 20 GDPR): data.json (JSON, schema enclosed "
            "in the software), contacts.vcf (vCard 4.0) and contacts.csv."
        ),
        "data_h": "The data we hold about you (Art. 15(1) and (3) GDPR)",
        "record": "Record {n}",
        "f_id": "Record id",
        "f_name": "Name",
        "f_emails": "E-mail",
        "f_phones": "Phone",
        "f_org": "Organisation",
        "f_notes": "Notes",
        "f_source": "Source",
        "f_purpose": "Purpose",
        "f_basis": "Legal basis",
        "f_rule": "Retention rule",
        "f_trigger": "Start of the retention period",
        "f_end": "Retention ends",
        "f_review": "Next review",
        "f_consent_given": "Consent given",
        "f_consent_withdrawn": "Consent withdrawn",
        "f_state": "State",
        "f_hold": "Legal hold",
        "f_created": "Recorded",
        "f_updated": "Last changed",
        "f_uid": "Contact id from the source",
        "yes": "yes",
        "active": "active",
        "restricted": "restricted (Art. 18 GDPR): only stored, not otherwise used",
        "a_h": "Art. 15(1)(a) GDPR: purposes of the processing",
        "a_item": "Record {n}: {purpose}; legal basis: {basis}.",
        "default_purpose": "our business relationship with you and the related correspondence",
        "b_h": "Art. 15(1)(b) GDPR: categories of personal data",
        "cat_name": "name",
        "cat_email": "contact data: e-mail addresses",
        "cat_phone": "contact data: phone numbers",
        "cat_org": "organisation you work for",
        "cat_notes": "notes about our dealings with you",
        "cat_consent": "records of your consent (dates given and withdrawn)",
        "cat_admin": "administrative data: record id, legal basis, retention period, dates recorded and changed",
        "c_h": "Art. 15(1)(c) GDPR: recipients",
        "c_intro": (
            "Your data are disclosed to the following recipients (processors acting on our behalf, Art. 28 GDPR):"
        ),
        "c_none": "We do not disclose your data to any recipient.",
        "c_item": "{name}{purpose}{country}",
        "c_third": (
            "{name} is located outside the EU/EEA ({country}). You have the right to be informed of the "
            "appropriate safeguards for this transfer (Art. 15(2) and Art. 46 GDPR); please ask us."
        ),
        "d_h": "Art. 15(1)(d) GDPR: how long we keep your data",
        "d_fixed": (
            'Record {n}: kept under the rule "{label}" ({reference}). The retention period ends on {end}; '
            "the record is deleted automatically from {purge}."
        ),
        "d_open": (
            'Record {n}: kept under the rule "{label}" ({reference}) for as long as the purpose lasts'
            "{review}; then it is deleted."
        ),
        "d_review": ", reviewed on {date} at the latest",
        "d_hold": (
            "Record {n} is under a legal hold (for example an open tax assessment, §147(3) AO); it is "
            "deleted once the hold ends."
        ),
        "e_h": "Art. 15(1)(e) GDPR: your rights",
        "e_items": (
            "the right to rectification of inaccurate data (Art. 16 GDPR);|"
            "the right to erasure (Art. 17 GDPR), unless a statutory retention duty applies "
            "(Art. 17(3)(b) GDPR), in which case the data are restricted until it ends;|"
            "the right to restriction of processing (Art. 18 GDPR);|"
            "the right to object to the processing (Art. 21 GDPR), and always to direct marketing;|"
            "the right to data portability (Art. 20 GDPR);|"
            "where processing is based on consent, the right to withdraw it at any time with effect for "
            "the future (Art. 7(3) GDPR)."
        ),
        "f_h": "Art. 15(1)(f) GDPR: right to lodge a complaint with a supervisory authority",
        "f_text": (
            "You have the right to lodge a complaint with a supervisory authority (Art. 77 GDPR), in "
            "particular in the EU member state of your habitual residence, place of work or of the alleged "
            "infringement."
        ),
        "f_authority": "The supervisory authority responsible for us is: {authority}.",
        "g_h": "Art. 15(1)(g) GDPR: source of the data",
        "g_own": "Record {n}: collected from you directly.",
        "g_src": "Record {n}: not collected from you; source: {source}.",
        "h_h": "Art. 15(1)(h) GDPR: automated decision-making",
        "h_text": (
            "No automated decision-making, including profiling, within the meaning of Art. 22(1) and (4) "
            "GDPR takes place. Your data are kept in an address book and used by a person only."
        ),
        "closing": "This information is free of charge (Art. 12(5) GDPR). Please contact us with any question.",
    },
    "de": {
        "title": "Ihre Anfrage auf Auskunft über Ihre personenbezogenen Daten (Art. 15 DSGVO)",
        "not_configured": "(nicht konfiguriert)",
        "date": "Datum: {date}",
        "intro_h": "Unsere Antwort",
        "intro": (
            "Sie haben gefragt, welche personenbezogenen Daten wir über Sie verarbeiten. Mit diesem Schreiben "
            "beantworten wir Ihre Anfrage nach Art. 15 DSGVO. Wir haben {n} Datensatz/Datensätze zu Ihnen "
            "gefunden. Eine Kopie der Daten liegt in einem gängigen, maschinenlesbaren Format bei "
            "(Art. 15 Abs. 3 und Art. 20 DSGVO): data.json (JSON), contacts.vcf (vCard 4.0) und contacts.csv."
        ),
        "data_h": "Die Daten, die wir über Sie gespeichert haben (Art. 15 Abs. 1 und 3 DSGVO)",
        "record": "Datensatz {n}",
        "f_id": "Datensatz-Kennung",
        "f_name": "Name",
        "f_emails": "E-Mail",
        "f_phones": "Telefon",
        "f_org": "Organisation",
        "f_notes": "Notizen",
        "f_source": "Herkunft",
        "f_purpose": "Zweck",
        "f_basis": "Rechtsgrundlage",
        "f_rule": "Aufbewahrungsregel",
        "f_trigger": "Beginn der Aufbewahrungsfrist",
        "f_end": "Aufbewahrung endet",
        "f_review": "Nächste Überprüfung",
        "f_consent_given": "Einwilligung erteilt",
        "f_consent_withdrawn": "Einwilligung widerrufen",
        "f_state": "Status",
        "f_hold": "Aufbewahrungssperre",
        "f_created": "Erfasst",
        "f_updated": "Zuletzt geändert",
        "f_uid": "Kontakt-Kennung der Quelle",
        "yes": "ja",
        "active": "aktiv",
        "restricted": "eingeschränkt (Art. 18 DSGVO): nur gespeichert, nicht anderweitig verwendet",
        "a_h": "Art. 15 Abs. 1 lit. a DSGVO: Zwecke der Verarbeitung",
        "a_item": "Datensatz {n}: {purpose}; Rechtsgrundlage: {basis}.",
        "default_purpose": "unsere Geschäftsbeziehung mit Ihnen und die zugehörige Korrespondenz",
        "b_h": "Art. 15 Abs. 1 lit. b DSGVO: Kategorien personenbezogener Daten",
        "cat_name": "Name",
        "cat_email": "Kontaktdaten: E-Mail-Adressen",
        "cat_phone": "Kontaktdaten: Telefonnummern",
        "cat_org": "Organisation, für die Sie tätig sind",
        "cat_notes": "Notizen zu unserem Kontakt mit Ihnen",
        "cat_consent": "Nachweise Ihrer Einwilligung (Datum der Erteilung und des Widerrufs)",
        "cat_admin": (
            "Verwaltungsdaten: Datensatz-Kennung, Rechtsgrundlage, Aufbewahrungsfrist, Erfassungs- und Änderungsdatum"
        ),
        "c_h": "Art. 15 Abs. 1 lit. c DSGVO: Empfänger",
        "c_intro": "Ihre Daten werden folgenden Empfängern offengelegt (Auftragsverarbeiter, Art. 28 DSGVO):",
        "c_none": "Wir geben Ihre Daten an keine Empfänger weiter.",
        "c_item": "{name}{purpose}{country}",
        "c_third": (
            "{name} hat seinen Sitz außerhalb der EU/des EWR ({country}). Sie haben das Recht, über die "
            "geeigneten Garantien für diese Übermittlung unterrichtet zu werden (Art. 15 Abs. 2 und Art. 46 "
            "DSGVO); fragen Sie uns gern."
        ),
        "d_h": "Art. 15 Abs. 1 lit. d DSGVO: Dauer der Speicherung",
        "d_fixed": (
            "Datensatz {n}: aufbewahrt nach der Regel „{label}“ ({reference}). Die Aufbewahrungsfrist endet am "
            "{end}; der Datensatz wird ab dem {purge} automatisch gelöscht."
        ),
        "d_open": (
            "Datensatz {n}: aufbewahrt nach der Regel „{label}“ ({reference}), solange der Zweck besteht"
            "{review}; danach wird er gelöscht."
        ),
        "d_review": ", spätestens am {date} überprüft",
        "d_hold": (
            "Für Datensatz {n} besteht eine Aufbewahrungssperre (z. B. eine noch offene Steuerfestsetzung, "
            "§147 Abs. 3 AO); er wird gelöscht, sobald sie endet."
        ),
        "e_h": "Art. 15 Abs. 1 lit. e DSGVO: Ihre Rechte",
        "e_items": (
            "das Recht auf Berichtigung unrichtiger Daten (Art. 16 DSGVO);|"
            "das Recht auf Löschung (Art. 17 DSGVO), soweit keine gesetzliche Aufbewahrungspflicht besteht "
            "(Art. 17 Abs. 3 lit. b DSGVO); dann wird die Verarbeitung bis zu deren Ende eingeschränkt;|"
            "das Recht auf Einschränkung der Verarbeitung (Art. 18 DSGVO);|"
            "das Recht auf Widerspruch gegen die Verarbeitung (Art. 21 DSGVO), gegen Direktwerbung jederzeit;|"
            "das Recht auf Datenübertragbarkeit (Art. 20 DSGVO);|"
            "bei einer Verarbeitung auf Grund einer Einwilligung das Recht, diese jederzeit mit Wirkung für "
            "die Zukunft zu widerrufen (Art. 7 Abs. 3 DSGVO)."
        ),
        "f_h": "Art. 15 Abs. 1 lit. f DSGVO: Beschwerderecht bei einer Aufsichtsbehörde",
        "f_text": (
            "Sie haben das Recht, sich bei einer Aufsichtsbehörde zu beschweren (Art. 77 DSGVO), insbesondere "
            "in dem Mitgliedstaat Ihres Aufenthaltsorts, Ihres Arbeitsplatzes oder des Orts des mutmaßlichen "
            "Verstoßes."
        ),
        "f_authority": "Die für uns zuständige Aufsichtsbehörde ist: {authority}.",
        "g_h": "Art. 15 Abs. 1 lit. g DSGVO: Herkunft der Daten",
        "g_own": "Datensatz {n}: bei Ihnen selbst erhoben.",
        "g_src": "Datensatz {n}: nicht bei Ihnen erhoben; Herkunft: {source}.",
        "h_h": "Art. 15 Abs. 1 lit. h DSGVO: automatisierte Entscheidungsfindung",
        "h_text": (
            "Eine automatisierte Entscheidungsfindung einschließlich Profiling im Sinne von Art. 22 Abs. 1 und 4 "
            "DSGVO findet nicht statt. Ihre Daten werden in einem Adressbuch gespeichert und nur von einem "
            "Menschen verwendet."
        ),
        "closing": "Diese Auskunft ist unentgeltlich (Art. 12 Abs. 5 DSGVO). Bei Fragen wenden Sie sich gern an uns.",
    },
}


# German wording of the built-in rules (vault.retention.BUILTIN_RULES): (label, reference).
_RULES_DE: dict[str, tuple[str, str]] = {
    "letters-6y": (
        "Geschäftsbriefe: 6 Jahre ab Ende des Kalenderjahres",
        "§ 257 Abs. 1 Nr. 2-3, Abs. 4 HGB; § 147 Abs. 1 Nr. 2-3, 5, Abs. 3 AO",
    ),
    "invoices-8y": (
        "Rechnungen und Buchungsbelege: 8 Jahre ab Ende des Kalenderjahres",
        "§ 257 Abs. 1 Nr. 4 HGB, § 147 Abs. 1 Nr. 4 AO, § 14b UStG (in der Fassung des BEG IV)",
    ),
    "books-10y": (
        "Bücher und Jahresabschlüsse: 10 Jahre ab Ende des Kalenderjahres",
        "§ 257 Abs. 1 Nr. 1 HGB, § 147 Abs. 1 Nr. 1 AO",
    ),
    "limitation-3y": (
        "Verjährungsfrist für Ansprüche: 3 Jahre ab Ende des Kalenderjahres",
        "§§ 195, 199 Abs. 1 BGB; Art. 17 Abs. 3 lit. e DSGVO",
    ),
    "consent": (
        "Einwilligung: bis zum Widerruf, Überprüfung alle 24 Monate",
        "Art. 6 Abs. 1 lit. a, Art. 7 Abs. 3 DSGVO",
    ),
    "inquiry-6m": ("Anfrage ohne Vertrag: 6 Monate nach dem letzten Kontakt", "Art. 5 Abs. 1 lit. e DSGVO"),
}


def rule_words(rule: RetentionRule | None, key: str, lang: str) -> tuple[str, str]:
    """(label, legal reference) of a rule in the letter's language; owner rules as written."""
    if rule is None:
        return key, ""
    if lang == "de" and key in _RULES_DE and rule.label == _builtin_label(key):
        return _RULES_DE[key]
    return rule.label, rule.reference


def _builtin_label(key: str) -> str:
    from vault.retention import BUILTIN_RULES

    return next((r.label for r in BUILTIN_RULES if r.key == key), "")


def format_date(value: date | None, lang: str) -> str:
    if value is None:
        return ""
    return value.strftime("%d.%m.%Y") if lang == "de" else value.isoformat()


def _processor_line(p: Processor, t: dict[str, str]) -> str:
    return t["c_item"].format(
        name=p.name,
        purpose=f": {p.purpose}" if p.purpose else "",
        country=f" ({p.country})" if p.country else "",
    )


def _record_fields(c: Contact, rule: RetentionRule | None, lang: str) -> tuple[tuple[str, str], ...]:
    t = _T[lang]
    rows: list[tuple[str, str]] = [(t["f_name"], c.name)]
    rows += [(t["f_emails"], e) for e in c.emails]
    rows += [(t["f_phones"], format_phone(p)) for p in c.phones]
    optional = [
        (t["f_org"], c.org),
        (t["f_notes"], c.notes),
        (t["f_source"], c.source),
        (t["f_purpose"], c.purpose),
    ]
    rows += [(label, value) for label, value in optional if value]
    rows.append((t["f_basis"], c.basis.describe(lang)))
    rows.append((t["f_rule"], rule_words(rule, c.rule, lang)[0]))
    if c.trigger:
        rows.append((t["f_trigger"], format_date(c.trigger, lang)))
    if c.retention_end:
        rows.append((t["f_end"], format_date(c.retention_end, lang)))
    if c.review_at:
        rows.append((t["f_review"], format_date(c.review_at, lang)))
    if c.consent_given:
        rows.append((t["f_consent_given"], format_date(c.consent_given, lang)))
    if c.consent_withdrawn:
        rows.append((t["f_consent_withdrawn"], format_date(c.consent_withdrawn, lang)))
    if c.hold:
        rows.append((t["f_hold"], t["yes"]))
    rows.append((t["f_state"], t["restricted"] if c.is_restricted else t["active"]))
    if c.uid:
        rows.append((t["f_uid"], c.uid))
    rows.append((t["f_created"], format_date(c.created.date(), lang)))
    rows.append((t["f_updated"], format_date(c.updated.date(), lang)))
    rows.append((t["f_id"], c.id))
    return tuple(rows)


def build_letter(contacts: Sequence[Contact], config: Config, rules: RuleBook, today: date, lang: str) -> Letter:
    """The Art. 15 answer as structured text (rendered by render_text/render_html)."""
    t = _T[_check_lang(lang)]
    unset = t["not_configured"]
    sender = tuple(
        line
        for line in (config.controller_name or unset, *config.controller_address.splitlines(), config.controller_email)
        if line.strip()
    )
    numbered = list(enumerate(contacts, start=1))
    rule_of = {c.id: _rule(rules, c.rule) for c in contacts}
    sections: list[Section] = [
        Section("intro", t["intro_h"], (t["intro"].format(n=len(contacts)),)),
        Section(
            "data",
            t["data_h"],
            records=tuple((t["record"].format(n=n), _record_fields(c, rule_of[c.id], lang)) for n, c in numbered),
        ),
        Section(
            "a",
            t["a_h"],
            items=tuple(
                t["a_item"].format(n=n, purpose=c.purpose or t["default_purpose"], basis=c.basis.describe(lang))
                for n, c in numbered
            ),
        ),
    ]
    categories = [t["cat_name"]]
    for present, key in (
        (any(c.emails for c in contacts), "cat_email"),
        (any(c.phones for c in contacts), "cat_phone"),
        (any(c.org for c in contacts), "cat_org"),
        (any(c.notes for c in contacts), "cat_notes"),
        (any(c.consent_given or c.basis is LegalBasis.CONSENT for c in contacts), "cat_consent"),
    ):
        if present:
            categories.append(t[key])
    categories.append(t["cat_admin"])
    sections.append(Section("b", t["b_h"], items=tuple(categories)))
    if config.processors:
        third = tuple(
            t["c_third"].format(name=p.name, country=p.country)
            for p in config.processors
            if p.country and p.country.upper() not in _EEA
        )
        sections.append(
            Section("c", t["c_h"], (t["c_intro"],), items=tuple(_processor_line(p, t) for p in config.processors))
        )
        if third:
            sections[-1] = Section("c", t["c_h"], (t["c_intro"],), sections[-1].items + third)
    else:
        sections.append(Section("c", t["c_h"], (t["c_none"],)))
    storage: list[str] = []
    for n, c in numbered:
        rule = rule_of[c.id]
        label, reference = rule_words(rule, c.rule, lang)
        if c.retention_end:
            storage.append(
                t["d_fixed"].format(
                    n=n,
                    label=label,
                    reference=reference,
                    end=format_date(c.retention_end, lang),
                    purge=format_date(purge_from(c.retention_end), lang),
                )
            )
        else:
            review = t["d_review"].format(date=format_date(c.review_at, lang)) if c.review_at else ""
            storage.append(t["d_open"].format(n=n, label=label, reference=reference, review=review))
        if c.hold:
            storage.append(t["d_hold"].format(n=n))
    sections.append(Section("d", t["d_h"], items=tuple(storage)))
    sections.append(Section("e", t["e_h"], items=tuple(t["e_items"].split("|"))))
    complaint = [t["f_text"]]
    if config.supervisory_authority:
        complaint.append(t["f_authority"].format(authority=config.supervisory_authority))
    sections.append(Section("f", t["f_h"], tuple(complaint)))
    sections.append(
        Section(
            "g",
            t["g_h"],
            items=tuple(
                t["g_src"].format(n=n, source=c.source) if c.source else t["g_own"].format(n=n) for n, c in numbered
            ),
        )
    )
    sections.append(Section("h", t["h_h"], (t["h_text"],)))
    return Letter(
        lang=lang,
        title=t["title"],
        sender=sender,
        date_line=t["date"].format(date=format_date(today, lang)),
        sections=tuple(sections),
        closing=(t["closing"],),
    )


def render_text(letter: Letter) -> str:
    out: list[str] = [*letter.sender, "", letter.date_line, "", letter.title, "=" * min(len(letter.title), 78), ""]
    for section in letter.sections:
        out += [section.heading, "-" * min(len(section.heading), 78)]
        out += [*section.paragraphs]
        out += [f"- {item}" for item in section.items]
        for heading, rows in section.records:
            out += ["", f"  {heading}"]
            for label, value in rows:
                lines = value.splitlines() or [""]
                out.append(f"    {label}: {lines[0]}")
                out += [f"      {line}" for line in lines[1:]]
        out.append("")
    out += [*letter.closing, ""]
    return "\n".join(out)


def render_html(letter: Letter) -> str:
    """HTML with every value escaped (imported text may contain markup)."""
    e = html.escape
    body: list[str] = [
        '<p class="sender">' + "<br>".join(e(line) for line in letter.sender) + "</p>",
        f"<p>{e(letter.date_line)}</p>",
        f"<h1>{e(letter.title)}</h1>",
    ]
    for section in letter.sections:
        body.append(f'<section id="art15-{e(section.key)}">')
        body.append(f"<h2>{e(section.heading)}</h2>")
        body += [f"<p>{e(p)}</p>" for p in section.paragraphs]
        if section.items:
            body.append("<ul>" + "".join(f"<li>{e(item)}</li>" for item in section.items) + "</ul>")
        for heading, rows in section.records:
            body.append(f"<h3>{e(heading)}</h3>")
            body.append(
                '<dl class="record">'
                + "".join(f"<dt>{e(label)}</dt><dd>{e(value)}</dd>" for label, value in rows)
                + "</dl>"
            )
        body.append("</section>")
    body += [f"<p>{e(p)}</p>" for p in letter.closing]
    template = Template(resources.files("vault.templates").joinpath("answer.html").read_text(encoding="utf-8"))
    return template.substitute(lang=e(letter.lang), title=e(letter.title), body="\n".join(body))


# --- the folder -------------------------------------------------------------------------------


def build_export(
    contacts: Sequence[Contact],
    config: Config,
    rules: RuleBook,
    *,
    exported_at: datetime,
    today: date,
    lang: str = "en",
) -> dict[str, bytes]:
    """The files of an export folder, by name."""
    _check_lang(lang)
    if not contacts:
        raise InvalidInput("export", "no records selected")
    ordered = sorted(contacts, key=lambda c: (c.created, c.id))
    letter = build_letter(ordered, config, rules, today, lang)
    document = data_document(ordered, config, rules, exported_at, lang)
    return {
        DATA_FILE: (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
        VCARD_FILE: vcard(ordered).encode("utf-8"),
        CSV_FILE: contacts_csv(ordered).encode("utf-8-sig"),  # BOM: spreadsheet programs detect UTF-8
        TEXT_FILE: render_text(letter).encode("utf-8"),
        HTML_FILE: render_html(letter).encode("utf-8"),
    }


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_export(out_dir: Path, files: dict[str, bytes]) -> Path:
    """Write ``files`` into ``out_dir`` (new or empty): folder 0700, files 0600, all or nothing.

    The files are written and fsynced in a private temporary folder next to
    ``out_dir`` that is then renamed into place, so a failure leaves nothing.
    """
    out_dir = Path(out_dir).expanduser().absolute()
    if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
        raise InvalidInput("export folder", "exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        raise InvalidInput("export folder", "exists and is not empty; choose a new folder")
    parent = out_dir.parent
    if not parent.is_dir():
        raise InvalidInput("export folder", "its parent folder does not exist")
    try:
        staging = Path(tempfile.mkdtemp(prefix=".sealbook-export-", dir=parent))  # mode 0700
    except OSError as exc:
        raise ExportFailed(exc.strerror) from None
    try:
        for name, content in files.items():
            fd = os.open(staging / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(staging, 0o700)
        _fsync_dir(staging)
        os.rename(staging, out_dir)  # atomic; replaces an empty folder, refuses a non-empty one
        _fsync_dir(parent)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ExportFailed(exc.strerror) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def remove_export(out_dir: Path) -> None:
    """Undo :func:`write_export` (used when recording the export fails)."""
    shutil.rmtree(out_dir, ignore_errors=True)


# --- finding one person ------------------------------------------------------------------------


def _name_variants(text: str) -> list[list[str]]:
    from vault.search import FIELD_SEP, text_key

    return [variant.split() for variant in text_key(text).split(FIELD_SEP)]


def _name_matches(query: list[list[str]], name: str) -> bool:
    candidates = [set(tokens) for tokens in _name_variants(name)]
    return any(tokens and all(t in candidate for t in tokens) for tokens in query for candidate in candidates)


@dataclass(frozen=True)
class PersonQuery:
    """What identifies one person: name words, a normalised e-mail, an E.164 phone."""

    name: list[list[str]]
    email: str
    phone: str

    @classmethod
    def parse(cls, *, name: str = "", email: str = "", phone: str = "", region: str = "DE") -> PersonQuery:
        """A phone or e-mail that cannot be parsed matches nothing rather than failing."""
        from vault.model import normalise_email, normalise_phone

        wanted_email = email.strip().casefold()
        if wanted_email:
            try:
                wanted_email = normalise_email(email).casefold()
            except InvalidInput:
                pass
        wanted_phone = ""
        if phone.strip():
            try:
                wanted_phone = normalise_phone(phone, region)
            except InvalidInput:
                wanted_phone = ""
        return cls(_name_variants(name) if name.strip() else [], wanted_email, wanted_phone)

    def may_match(self, text_key: str) -> bool:
        """A cheap test on a record's search text (vault.search.contact_keys) that every
        record :meth:`matches` passes, so only those need decoding."""
        if any(tokens and all(t in text_key for t in tokens) for tokens in self.name):
            return True
        return bool(self.email and self.email in text_key) or bool(self.phone and self.phone in text_key)

    def matches(self, c: Contact) -> bool:
        return bool(
            (self.name and _name_matches(self.name, c.name))
            or (self.email and any(e.casefold() == self.email for e in c.emails))
            or (self.phone and self.phone in c.phones)
        )


def find_person(
    contacts: Iterable[Contact], *, name: str = "", email: str = "", phone: str = "", region: str = "DE"
) -> list[Contact]:
    """Every record matching the name (all its words, any order, accents and German
    spellings folded), the e-mail (case-insensitive) or the phone (in E.164).

    Restricted records are included: the person has a right to them.
    """
    query = PersonQuery.parse(name=name, email=email, phone=phone, region=region)
    found = [c for c in contacts if query.matches(c)]
    return sorted(found, key=lambda c: (c.name.casefold(), c.id))

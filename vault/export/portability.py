"""The portability export (Art. 20 GDPR): what the person provided, machine-readable.

Unlike the access answer (Art. 15), which is complete, this export holds only
records processed on consent or a contract (Art. 20(1)(a)), and of those only
the fields the person provided: name, e-mails, phones, organisation.  The
owner's notes, the recorded source and purpose, ids and retention metadata stay
out, and so do notes that may be about other people (Art. 20(4)).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from vault.config import Config
from vault.export.bundle import HTML_FILE, TEXT_FILE, VCARD_FILE
from vault.export.catalogue import check_lang, messages, plural
from vault.export.formats import vcard
from vault.export.letter import Letter, Section, letter_frame, render_html, render_text
from vault.export.periods import effective_basis, governing_rule
from vault.model import Contact, LegalBasis
from vault.retention import RuleBook

PORTABILITY_FILE = "portability.json"
PORTABILITY_FILES = (PORTABILITY_FILE, VCARD_FILE, TEXT_FILE, HTML_FILE)
PORTABILITY_FORMAT = "sealbook-portability"
# Art. 20(1)(a): consent (Art. 6(1)(a)) or contract (Art. 6(1)(b)).
PORTABLE_BASES = frozenset({LegalBasis.CONSENT, LegalBasis.CONTRACT})


def portable_records(contacts: Sequence[Contact], rules: RuleBook) -> list[Contact]:
    """The records Art. 20 covers: processed now on consent or a contract (a restricted
    record kept for a duty or for legal claims, by its main rule or a further one, is
    processed on that ground, and is left out)."""
    return [c for c in contacts if effective_basis(c, governing_rule(c, rules)) in PORTABLE_BASES]


def portable_record(contact: Contact) -> dict[str, Any]:
    """The data the person provided, from one record: never the owner's own fields
    (notes, source, purpose, retention, hold and its reason, review dates, requests)."""
    return {
        "name": contact.name,
        "emails": list(contact.emails),
        "phones": list(contact.phones),
        "organisation": contact.org,
    }


def portability_document(
    contacts: Sequence[Contact], config: Config, exported_at: datetime, lang: str
) -> dict[str, Any]:
    """The whole of portability.json, titled as an Art. 20 export."""
    return {
        "format": PORTABILITY_FORMAT,
        "version": 1,
        "title": messages(check_lang(lang))["portability.title"],
        "legal_basis": "Art. 20 GDPR",
        "exported_at": exported_at.isoformat(),
        "language": lang,
        "controller": {"name": config.controller_name, "email": config.controller_email},
        "records": [portable_record(c) for c in contacts],
    }


def build_portability_letter(portable: Sequence[Contact], config: Config, today: date, lang: str) -> Letter:
    """The cover letter of the Art. 20 export."""
    t = messages(check_lang(lang))
    paragraphs: tuple[str, ...]
    if portable:
        paragraphs = (plural(t, "portability.found", len(portable)), t["portability.files"])
    else:
        paragraphs = (t["portability.found.none"],)
    sections = [
        Section("intro", "", paragraphs),
        Section("scope", "", (t["portability.scope"], t["portability.direct"])),
    ]
    return letter_frame(config, today, lang, t["portability.title"], t["portability.closing"], sections)


def build_portability(
    contacts: Sequence[Contact],
    config: Config,
    rules: RuleBook,
    *,
    exported_at: datetime,
    today: date,
    lang: str = "en",
) -> dict[str, bytes]:
    """The files of an Art. 20 export folder, by name; the records Art. 20 does not cover are left out."""
    check_lang(lang)
    ordered = portable_records(sorted(contacts, key=lambda c: (c.created, c.id)), rules)
    letter = build_portability_letter(ordered, config, today, lang)
    document = portability_document(ordered, config, exported_at, lang)
    return {
        PORTABILITY_FILE: (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
        VCARD_FILE: vcard(ordered, owner_fields=False).encode("utf-8"),
        TEXT_FILE: render_text(letter).encode("utf-8"),
        HTML_FILE: render_html(letter).encode("utf-8"),
    }

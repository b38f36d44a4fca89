"""The files of one export folder, by name: the data in three formats and the letter."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime

from vault.config import Config
from vault.export.catalogue import check_lang
from vault.export.formats import contacts_csv, data_document, vcard
from vault.export.letter import build_letter, render_html, render_text
from vault.model import Contact
from vault.retention import RuleBook

DATA_FILE = "data.json"
VCARD_FILE = "contacts.vcf"
CSV_FILE = "contacts.csv"
TEXT_FILE = "answer.txt"
HTML_FILE = "answer.html"
EXPORT_FILES = (DATA_FILE, VCARD_FILE, CSV_FILE, TEXT_FILE, HTML_FILE)
NEGATIVE_FILES = (TEXT_FILE, HTML_FILE)  # the negative answer: a letter, no data


def build_export(
    contacts: Sequence[Contact],
    config: Config,
    rules: RuleBook,
    *,
    exported_at: datetime,
    today: date,
    lang: str = "en",
) -> dict[str, bytes]:
    """The files of an export folder, by name; with no records, the negative answer
    (Negativauskunft): the letter saying that the address book holds nothing."""
    check_lang(lang)
    ordered = sorted(contacts, key=lambda c: (c.created, c.id))
    letter = build_letter(ordered, config, rules, today, lang)
    if not ordered:
        return {TEXT_FILE: render_text(letter).encode("utf-8"), HTML_FILE: render_html(letter).encode("utf-8")}
    document = data_document(ordered, config, rules, exported_at, lang)
    return {
        DATA_FILE: (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
        VCARD_FILE: vcard(ordered).encode("utf-8"),
        CSV_FILE: contacts_csv(ordered).encode("utf-8-sig"),  # BOM: spreadsheet programs detect UTF-8
        TEXT_FILE: render_text(letter).encode("utf-8"),
        HTML_FILE: render_html(letter).encode("utf-8"),
    }

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

Modules: :mod:`~vault.export.person` finds the records of one person,
:mod:`~vault.export.formats` writes the three data files,
:mod:`~vault.export.letter` the letter in the words of a catalogue
(:mod:`~vault.export.catalogue`, ``letters/<language>.toml``),
:mod:`~vault.export.bundle` puts them together and :mod:`~vault.export.files`
writes the folder.
"""

from __future__ import annotations

from vault.export.bundle import (
    CSV_FILE,
    DATA_FILE,
    EXPORT_FILES,
    HTML_FILE,
    TEXT_FILE,
    VCARD_FILE,
    build_export,
)
from vault.export.catalogue import LANGUAGES, format_date
from vault.export.files import ExportFailed, ExportResult, remove_export, write_export
from vault.export.formats import (
    CSV_COLUMNS,
    FIELD_PATHS,
    FORMULA_PREFIXES,
    SCHEMA_RESOURCE,
    SCHEMA_VERSION,
    contacts_csv,
    csv_cell,
    data_document,
    load_schema,
    record_json,
    vcard,
    vcard_uid,
)
from vault.export.letter import Letter, Section, build_letter, render_html, render_text, rule_words
from vault.export.person import PersonQuery, find_person

__all__ = [
    "CSV_COLUMNS",
    "CSV_FILE",
    "DATA_FILE",
    "EXPORT_FILES",
    "FIELD_PATHS",
    "FORMULA_PREFIXES",
    "HTML_FILE",
    "LANGUAGES",
    "SCHEMA_RESOURCE",
    "SCHEMA_VERSION",
    "TEXT_FILE",
    "VCARD_FILE",
    "ExportFailed",
    "ExportResult",
    "Letter",
    "PersonQuery",
    "Section",
    "build_export",
    "build_letter",
    "contacts_csv",
    "csv_cell",
    "data_document",
    "find_person",
    "format_date",
    "load_schema",
    "record_json",
    "remove_export",
    "render_html",
    "render_text",
    "rule_words",
    "vcard",
    "vcard_uid",
    "write_export",
]

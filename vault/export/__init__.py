"""The answer to an access (Art. 15) or portability (Art. 20) request.

:func:`build_export` turns the records of one person into the files of the
export folder; :func:`write_export` puts them on disk (folder 0700, files
0600, all or nothing).  Pure functions of their inputs: no clock, no vault.

Files:
- ``data.json``: every stored field, validated by the shipped JSON Schema
  (``vault/schemas/data-v2.schema.json``, :func:`load_schema`);
- ``contacts.vcf``: vCard 4.0 (RFC 6350);
- ``contacts.csv``: the same as a spreadsheet, formula prefixes escaped;
- ``answer.txt`` / ``answer.html``: the letter with Art. 15(1)(a)-(h).

With no records the folder holds only the letter: the negative answer.  The
portability export (Art. 20, :mod:`~vault.export.portability`) is a folder of
its own: ``portability.json``, ``contacts.vcf`` and a cover letter, with only
the data the person provided on consent or a contract.

Modules: :mod:`~vault.export.person` finds the records of one person,
:mod:`~vault.export.formats` writes the three data files,
:mod:`~vault.export.letter` the letter in the words of a catalogue
(:mod:`~vault.export.catalogue`, ``letters/<language>.toml``), with a record's
retention and legal basis worded by :mod:`~vault.export.periods`,
:mod:`~vault.export.bundle` puts them together and :mod:`~vault.export.files`
writes the folder.
"""

from __future__ import annotations

from vault.export.bundle import (
    CSV_FILE,
    DATA_FILE,
    EXPORT_FILES,
    HTML_FILE,
    NEGATIVE_FILES,
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
from vault.export.letter import (
    Letter,
    Section,
    build_letter,
    build_negative_letter,
    render_html,
    render_text,
)
from vault.export.periods import effective_basis, governing_rule, periods, rule_words, stated_basis
from vault.export.person import PersonQuery, find_person
from vault.export.portability import (
    PORTABILITY_FILE,
    PORTABILITY_FILES,
    build_portability,
    portable_records,
)

__all__ = [
    "CSV_COLUMNS",
    "CSV_FILE",
    "DATA_FILE",
    "EXPORT_FILES",
    "FIELD_PATHS",
    "FORMULA_PREFIXES",
    "HTML_FILE",
    "LANGUAGES",
    "NEGATIVE_FILES",
    "PORTABILITY_FILE",
    "PORTABILITY_FILES",
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
    "build_negative_letter",
    "build_portability",
    "contacts_csv",
    "csv_cell",
    "data_document",
    "effective_basis",
    "find_person",
    "format_date",
    "governing_rule",
    "load_schema",
    "periods",
    "portable_records",
    "record_json",
    "remove_export",
    "render_html",
    "render_text",
    "rule_words",
    "stated_basis",
    "vcard",
    "vcard_uid",
    "write_export",
]

"""Import of contacts from vCard (2.1, 3.0, 4.0) and CSV (Outlook, Google, Apple, Thunderbird, generic).

Three steps, all pure except reading the file and asking the suppression list:

1. :func:`read_entries` (or, for a folder of .vcf files as khard and vdirsyncer keep
   them, :func:`read_folder`) turns the file into :class:`ParsedEntry` objects, one per
   vCard or CSV row, each either with fields or with an error message that names
   the entry and line but never its content.
2. :func:`plan_import` validates every entry (through the vault's own
   validation), matches it against the stored contacts (vCard UID, normalised
   e-mail, E.164 phone) and against earlier entries of the same file, and says
   for each entry whether it would be added, merged (the batch's rule becomes a
   further duty of the stored contact), skipped, or left out because the person
   is on the suppression list.
3. The :class:`~vault.service.Vault` commits the plan in one transaction.

Hostile input is expected: the file, each entry and each field have size caps
(the constants below, documented in the README), and bytes that are not UTF-8
(in a file that is UTF-8; a CSV file may also be UTF-16 or Windows-1252, see
:mod:`~vault.importers.csvfile`), NUL bytes and control characters (terminal
escapes) make that entry an error.  Anything else is text and kept verbatim:
markup, which front ends render literally, and cells that start like a
spreadsheet formula, which the CSV export escapes.  A phone number that is
possible but not valid for its country is kept with a warning
(:mod:`~vault.importers.phones`).  Photos, logos, sounds and keys are skipped
before parsing so a 10 MB PHOTO costs nothing.

Modules: :mod:`~vault.importers.reading` reads the file and picks the parser,
:mod:`~vault.importers.folder` lists and reads a folder's .vcf files,
:mod:`~vault.importers.vcard` and :mod:`~vault.importers.csvfile` parse,
:mod:`~vault.importers.entries` holds what they produce,
:mod:`~vault.importers.phones` keeps mistyped phone numbers with a warning,
:mod:`~vault.importers.batch` checks what a batch must carry (consent: its day and
way, never filled in), asks the suppression list about the people in it and
decides which rule a merge adds, and :mod:`~vault.importers.plan` decides what
happens to each entry.
"""

from __future__ import annotations

from vault.importers.csvfile import classify_header, decode_csv, parse_csv, sniff_delimiter
from vault.importers.entries import FolderRefused, ImportRefused, ParsedEntry
from vault.importers.folder import read_folder
from vault.importers.plan import ImportEntry, ImportPlan, ImportReport, Outcome, plan_import
from vault.importers.reading import detect_format, read_entries, read_file
from vault.importers.vcard import SKIPPED_PROPERTIES, parse_vcards, split_unescaped, unescape
from vault.model import MAX_ENTRIES as MAX_ENTRIES  # documented limits (vault.model)
from vault.model import MAX_ENTRY_BYTES as MAX_ENTRY_BYTES
from vault.model import MAX_FILE_BYTES as MAX_FILE_BYTES

# --- documented limits -------------------------------------------------------------------
# The parsers read these here, at call time, so this is the one place to read or change them.
MAX_CSV_FIELD = 128 * 1024  # one CSV cell (the csv module's own default limit)
MAX_COLUMNS = 500  # CSV columns
# A folder of .vcf files (vault.importers.folder): each file has MAX_FILE_BYTES, the whole
# batch MAX_ENTRIES.  The files are read one at a time, so memory stays that of one file;
# the total bounds the time a folder takes, and is larger than one file's limit because
# the photos in a phone's vdir count here (they are skipped, but read).
MAX_FOLDER_BYTES = 4 * MAX_FILE_BYTES  # all .vcf files of the folder together
MAX_FOLDER_FILES = MAX_ENTRIES  # .vcf files in the folder (each is at least one entry)

__all__ = [
    "MAX_COLUMNS",
    "MAX_CSV_FIELD",
    "MAX_ENTRIES",
    "MAX_ENTRY_BYTES",
    "MAX_FILE_BYTES",
    "MAX_FOLDER_BYTES",
    "MAX_FOLDER_FILES",
    "SKIPPED_PROPERTIES",
    "FolderRefused",
    "ImportEntry",
    "ImportPlan",
    "ImportRefused",
    "ImportReport",
    "Outcome",
    "ParsedEntry",
    "classify_header",
    "decode_csv",
    "detect_format",
    "parse_csv",
    "parse_vcards",
    "plan_import",
    "read_entries",
    "read_file",
    "read_folder",
    "sniff_delimiter",
    "split_unescaped",
    "unescape",
]

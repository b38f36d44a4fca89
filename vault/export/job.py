"""The export job: write one person's answer and log it, all or nothing.

The access answer (Art. 15) logs ``exported`` per record id; the negative
answer one ``exported`` row without a record id (detail ``negative answer``);
the portability export (Art. 20) ``exported`` per record it holds (detail
``art. 20``).  Details never hold personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from vault.audit import AuditLog
from vault.config import Config
from vault.export.bundle import build_export
from vault.export.files import ExportResult, remove_export, write_export
from vault.export.portability import build_portability, portable_records
from vault.model import Contact
from vault.retention import RuleBook
from vault.store.repository import Store


def export_records(
    contacts: Sequence[Contact],
    out_dir: Path,
    *,
    store: Store,
    audit: AuditLog,
    config: Config,
    rules: RuleBook,
    exported_at: datetime,
    today: date,
    lang: str,
    portability: bool = False,
) -> ExportResult:
    """Write the Art. 15 answer for ``contacts`` (none: the negative answer), or with
    ``portability`` the Art. 20 export, into ``out_dir`` (new or empty; folder 0700,
    files 0600) and log it in one transaction: if the log cannot be written, the
    files are taken back."""
    build = build_portability if portability else build_export
    files = build(contacts, config, rules, exported_at=exported_at, today=today, lang=lang)
    if portability:
        contacts, detail = portable_records(contacts, rules), "art. 20"
    else:
        detail = ""
    written: Path | None = None
    try:
        with store.session() as s:
            for contact in contacts:
                audit.add(s, "exported", contact.id, detail)
            if not contacts:
                audit.add(s, "exported", None, "negative answer" if not portability else "art. 20, nothing portable")
            written = write_export(Path(out_dir), files)
    except BaseException:
        if written is not None:  # the audit rows did not commit: take the files back
            remove_export(written)
        raise
    return ExportResult(written, tuple(files), tuple(c.id for c in contacts))

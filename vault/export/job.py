"""The export job: write one person's answer and log it, all or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from vault.audit import AuditLog
from vault.config import Config
from vault.export.bundle import build_export
from vault.export.files import ExportResult, remove_export, write_export
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
) -> ExportResult:
    """Write the Art. 15/20 answer for ``contacts`` into ``out_dir`` (new or empty;
    folder 0700, files 0600) and log ``exported`` per record id in one transaction:
    if the log cannot be written, the files are taken back."""
    files = build_export(contacts, config, rules, exported_at=exported_at, today=today, lang=lang)
    written: Path | None = None
    try:
        with store.session() as s:
            for contact in contacts:
                audit.add(s, "exported", contact.id)
            written = write_export(Path(out_dir), files)
    except BaseException:
        if written is not None:  # the audit rows did not commit: take the files back
            remove_export(written)
        raise
    return ExportResult(written, tuple(files), tuple(c.id for c in contacts))

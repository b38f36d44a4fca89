"""Benchmarks: import 100,000 vCards; export one person from a 100,000-contact vault.

Run with `make bench` (or `pytest -m bench -s tests/bench/test_exchange_bench.py`).
They print figures; they assert results, never times.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, WEAK_KDF, FixedClock
from vault import importers
from vault.model import LegalBasis
from vault.service import Vault

N = 100_000


def _corpus(path: Path, n: int) -> Path:
    cards = []
    for i in range(n):
        cards.append(
            "BEGIN:VCARD\r\nVERSION:3.0\r\n"
            f"UID:bench-{i}\r\nFN:Person {i} Müller\r\nN:Müller;Person {i};;;\r\n"
            f"EMAIL;TYPE=work:person{i}@example.org\r\nTEL;TYPE=cell:+49 30 {1_000_000 + i}\r\n"
            f"ORG:Firma {i % 500}\r\nNOTE:Kunde seit {2000 + i % 25}\\, Rechnung per E-Mail.\r\n"
            "END:VCARD\r\n"
        )
    path.write_text("".join(cards), encoding="utf-8")
    return path


@pytest.mark.bench
def test_import_100k_vcards_then_export_one_person(tmp_path: Path, clock: FixedClock) -> None:
    started = time.perf_counter()
    source = _corpus(tmp_path / "bench.vcf", N)
    generated = time.perf_counter() - started
    size_mib = source.stat().st_size / 2**20

    started = time.perf_counter()
    kind, entries, _ = importers.read_entries(source.read_bytes(), source.name)
    parsed = time.perf_counter() - started
    assert kind == "vcard" and len(entries) == N and not any(e.error for e in entries)

    vault_path = tmp_path / "bench.sqlite"
    vault = Vault.create(vault_path, PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True, clock=clock)
    started = time.perf_counter()
    preview = vault.import_file(source, LegalBasis.CONTRACT, "invoices-8y", date(2025, 3, 10), dry_run=True)
    previewed = time.perf_counter() - started
    assert preview.added == N
    started = time.perf_counter()
    report = vault.import_file(source, LegalBasis.CONTRACT, "invoices-8y", date(2025, 3, 10))
    imported = time.perf_counter() - started
    assert report.committed and report.added == N
    vault.close()

    started = time.perf_counter()
    vault = Vault(vault_path, clock=clock)
    vault.unlock(PASSPHRASE)
    unlocked = time.perf_counter() - started
    try:
        started = time.perf_counter()
        found = vault.find_person(email="PERSON4711@example.org", phone="030 1004711")
        searched = time.perf_counter() - started
        assert [c.uid for c in found] == ["bench-4711"]
        started = time.perf_counter()
        result = vault.export_person([c.id for c in found], tmp_path / "answer", "de")
        exported = time.perf_counter() - started
        assert len(result.record_ids) == 1
        started = time.perf_counter()
        again = vault.import_file(source, LegalBasis.CONTRACT, "invoices-8y", date(2025, 3, 10), dry_run=True)
        reimport_preview = time.perf_counter() - started
        assert again.skipped == N
    finally:
        vault.close()

    print()
    print(f"corpus: {N} vCards, {size_mib:.1f} MiB (generated in {generated:.1f} s)")
    print(f"parse only (vobject line parser):     {parsed:6.1f} s  {N / parsed:8.0f} cards/s")
    print(f"dry run (parse + validate + match):   {previewed:6.1f} s  {N / previewed:8.0f} cards/s")
    print(f"import (one transaction, sealed):     {imported:6.1f} s  {N / imported:8.0f} cards/s")
    print(f"re-import preview (all skipped):      {reimport_preview:6.1f} s")
    print(f"unlock a {N}-contact vault (weak KDF): {unlocked:6.1f} s")
    print(f"find one person (e-mail + phone):     {searched * 1000:6.1f} ms")
    print(f"export one person (5 files, audited): {exported * 1000:6.1f} ms")

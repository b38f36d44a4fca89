"""Benchmark: purge 10,000 expired records out of 100,000 (figures printed, not asserted).

Run with `make bench` (or `pytest -m bench -s tests/bench/test_purge_bench.py`).
``SEALBOOK_BENCH_RECORDS`` scales the vault down for a quick look.
"""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, WEAK_KDF, FixedClock, draft
from vault.service import Vault

TOTAL = int(os.environ.get("SEALBOOK_BENCH_RECORDS", "100000"))
EXPIRED = TOTAL // 10
BATCH = 5000
TODAY = date(2026, 6, 15)


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.iterdir() if p.name.startswith(path.name))


@pytest.mark.bench
def test_purge_10000_of_100000(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "bench.sqlite"
    started = time.perf_counter()
    with Vault.create(path, PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True, clock=clock) as vault:
        for start in range(0, TOTAL, BATCH):
            drafts = []
            for i in range(start, min(start + BATCH, TOTAL)):
                expired = i % 10 == 0  # spread through the file, as in life
                drafts.append(
                    draft(
                        name=f"Bench Person {i}",
                        emails=(f"person{i}@example.org",),
                        phones=(),
                        rule="inquiry-6m" if expired else "invoices-8y",
                        trigger=date(2025, 1, 1) if expired else date(2025, 3, 10),
                    )
                )
            vault.add_many(drafts)
    built = time.perf_counter() - started
    size_before = _size(path)

    with Vault(path, clock=clock) as cron:  # as the timer runs it: locked, no passphrase
        mark = time.perf_counter()
        preview = cron.purge(TODAY, dry_run=True)
        dry = time.perf_counter() - mark
        mark = time.perf_counter()
        report = cron.purge(TODAY)
        wall = time.perf_counter() - mark
        left = cron.record_count()
    size_after = _size(path)

    assert len(preview.purged) == EXPIRED and len(report.purged) == EXPIRED
    assert left == TOTAL - EXPIRED and report.scrubbed
    t = report.timings
    print(
        f"\npurge bench: {EXPIRED:,} expired of {TOTAL:,} records\n"
        f"  build vault (add_many, {BATCH:,}/batch): {built:8.2f} s\n"
        f"  dry run (select + verify signatures):     {dry:8.2f} s\n"
        f"  purge total:                              {wall:8.2f} s\n"
        f"    lock:                                   {t['lock']:8.3f} s\n"
        f"    transaction (select, verify, delete,\n"
        f"      tombstones, audit):                   {t['transaction']:8.2f} s\n"
        f"    scrub (checkpoint, VACUUM, checkpoint): {t['scrub']:8.2f} s\n"
        f"  files: {size_before / 1e6:.1f} MB before, {size_after / 1e6:.1f} MB after"
    )

"""Benchmark: push and pull of a 100,000-contact vault through a local folder and
WebDAV (wsgidav on 127.0.0.1).  Prints figures; asserts only correctness.

Run with `make bench` (or `pytest -m bench -s tests/bench/test_sync_bench.py`).
``SEALBOOK_BENCH_RECORDS`` scales the vault down for a quick look.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, WEAK_KDF, FixedClock, draft
from tests.sync.servers import run_wsgidav
from vault.service import Vault
from vault.sync.local import LocalFolder
from vault.sync.webdav import WebDav

CONTACTS = int(os.environ.get("SEALBOOK_BENCH_RECORDS", "100000"))
BATCH = min(5_000, CONTACTS)


def _mib(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MiB"


@pytest.mark.bench
def test_push_and_pull_of_a_100k_contact_vault(
    tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("SEALBOOK_NO_KEYRING", "1")
    a = Vault.create(tmp_path / "a.sqlite", PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True, clock=clock)
    started = time.perf_counter()
    for start in range(0, CONTACTS, BATCH):
        a.add_many(
            [
                draft(name=f"Person {i}", emails=(f"person{i}@example.org",), phones=(f"+49 30 {1000000 + i}",))
                for i in range(start, start + BATCH)
            ]
        )
    print(
        f"\nbuilt {CONTACTS} contacts in {time.perf_counter() - started:.1f} s; "
        f"vault file {_mib(a.path.stat().st_size)}"
    )
    figures: list[str] = []

    def timed(label: str, action):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        result = action()
        figures.append(f"{label:<28} {time.perf_counter() - t0:6.2f} s")
        return result

    folder = tmp_path / "folder"
    folder.mkdir()
    local = LocalFolder(folder)
    report = timed("local push (first)", lambda: a.sync_push(local))
    figures.append(f"{'blob size':<28} {_mib(report.blob_bytes)}")
    b, _ = timed(
        "local clone (pull into new)",
        lambda: Vault.clone_from(None, tmp_path / "b.sqlite", PASSPHRASE, remote=LocalFolder(folder), clock=clock),
    )
    assert len(b) == CONTACTS
    ids = [c.id for c in a.contacts()[:100]]
    for record_id in ids:
        a.update(record_id, draft(name="Changed Person"))
    timed("local push (100 changed)", lambda: a.sync_push(local))
    pulled = timed("local pull (100 changed)", lambda: b.sync_pull(LocalFolder(folder)))
    assert pulled.updated == 100

    (tmp_path / "dav").mkdir()
    with run_wsgidav(tmp_path / "dav") as server:

        def dav() -> WebDav:
            return WebDav(server.folder("bench"), server.user, server.password, timeout=300)

        ra, rb = dav(), dav()
        report = timed("webdav push (first)", lambda: a.sync_push(ra))
        timed("webdav pull (no changes)", lambda: b.sync_pull(rb))
        for record_id in ids[:10]:
            a.update(record_id, draft(name="Changed Again"))
        timed("webdav push (10 changed)", lambda: a.sync_push(ra))
        pulled = timed("webdav pull (10 changed)", lambda: b.sync_pull(rb))
        assert pulled.updated == 10
        ra.close()
        rb.close()
    print("\n".join(figures))
    a.close()
    b.close()

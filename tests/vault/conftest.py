"""Fixtures of the core's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from vault import rowscan

# Rows changed behind sealbook's back (parameters :victim and :other, two record ids): a changed
# hold (its signature no longer matches), another record's payload, a malformed signature, a date
# stored in another spelling.  No such record may be shown, whichever path loads the rows.
ROW_DAMAGE = {
    "hold": "UPDATE contacts SET hold = 1 - hold WHERE id = :victim",
    "swapped payload": (
        "UPDATE contacts SET sealed = (SELECT sealed FROM contacts WHERE id = :other) WHERE id = :victim"
    ),
    "short signature": "UPDATE contacts SET meta_sig = x'00' WHERE id = :victim",
    "date spelt otherwise": "UPDATE contacts SET retention_end = retention_end || 'T00:00' WHERE id = :victim",
}

# What a helper process (vault.rowscan, vault.rowopen) may do, as the interpreter it is started
# with: answer; start and fail; "succeed" with an answer that is no marshal data; not start.
CHILDREN = {
    "answers": None,
    "fails": "/bin/false",
    "answers nonsense": "/bin/echo",
    "cannot start": "/nonexistent/python",
}


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[rowscan.Scan]:
    """Every vault counts as large (its rows are tagged by a second process, vault.rowscan),
    and the Scans started are recorded."""
    monkeypatch.setattr(rowscan, "PARALLEL_FROM", 0)
    monkeypatch.setattr(rowscan, "has_a_second_core", lambda: True)
    started: list[rowscan.Scan] = []
    original = rowscan.Scan.__init__

    def spy(self: rowscan.Scan, path: Path, key: bytearray) -> None:
        started.append(self)
        original(self, path, key)

    monkeypatch.setattr(rowscan.Scan, "__init__", spy)
    return started

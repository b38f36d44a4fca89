"""Fixtures of the core's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from vault import rowscan


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

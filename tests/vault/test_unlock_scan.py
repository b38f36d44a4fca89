"""The unlock's rows tagged by a second process (vault.rowscan, issue 15): the same contacts,
and every tamper check still holds on that path and on its fallback."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, FixedClock, draft
from tests.vault.conftest import CHILDREN, ROW_DAMAGE
from vault import rowscan
from vault.model import Contact
from vault.service import Vault


def fill(vault: Vault) -> list[Contact]:
    return [vault.add(draft(name=f"Person {i}", emails=(f"p{i}@example.org",))) for i in range(8)]


def unlocked(path: Path, clock: FixedClock) -> tuple[list[Contact], tuple[str, ...]]:
    with Vault(path, clock=clock) as v:
        v.unlock(PASSPHRASE)
        return v.contacts(include_restricted=True), v.damaged_ids


def test_an_unlock_with_the_rows_tagged_by_a_second_process_loads_the_same_contacts(
    vault: Vault, vault_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(vault)
    vault.close()
    alone = unlocked(vault_path, clock)
    started: list[rowscan.Scan] = []
    monkeypatch.setattr(rowscan, "PARALLEL_FROM", 0)
    monkeypatch.setattr(rowscan, "has_a_second_core", lambda: True)
    original = rowscan.Scan.result

    def spy(self: rowscan.Scan) -> rowscan.Tags | None:
        started.append(self)
        return original(self)

    monkeypatch.setattr(rowscan.Scan, "result", spy)
    assert unlocked(vault_path, clock) == alone
    assert len(started) == 1  # the answer came from the child
    assert len(alone[0]) == 8 and alone[1] == ()


@pytest.mark.parametrize("child", sorted(CHILDREN))
@pytest.mark.parametrize("damage", sorted(ROW_DAMAGE))
def test_a_damaged_row_is_found_on_the_second_process_path(
    vault: Vault,
    vault_path: Path,
    clock: FixedClock,
    scans: list[rowscan.Scan],
    monkeypatch: pytest.MonkeyPatch,
    damage: str,
    child: str,
) -> None:
    added = fill(vault)
    vault.close()
    victim, other = added[3], added[5]
    with sqlite3.connect(vault_path) as conn:
        conn.execute(ROW_DAMAGE[damage], {"victim": victim.id, "other": other.id})
    executable = CHILDREN[child]
    if executable is not None:
        monkeypatch.setattr(rowscan.sys, "executable", executable)
    contacts, damaged = unlocked(vault_path, clock)
    assert len(scans) == 1
    assert damaged == (victim.id,)
    assert victim.id not in {c.id for c in contacts}
    assert {c.id for c in contacts} == {c.id for c in added} - {victim.id}


def test_the_row_tag_key_reaches_the_child_only_on_its_standard_input(
    vault: Vault, vault_path: Path, clock: FixedClock, scans: list[rowscan.Scan], monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(vault)
    vault.close()
    seen: list[tuple[list[str], dict[str, str]]] = []
    popen = rowscan.subprocess.Popen

    def spy(args: list[str], **kw: object) -> object:
        env = kw.get("env")
        assert isinstance(env, dict)
        seen.append((list(args), dict(env)))
        return popen(args, **kw)  # type: ignore[call-overload]

    monkeypatch.setattr(rowscan.subprocess, "Popen", spy)
    with Vault(vault_path, clock=clock) as v:
        v.unlock(PASSPHRASE)
        key = bytes(v._ring.keys.row_tag)
    assert seen
    for args, env in seen:
        text = " ".join(args) + " ".join(f"{k}={v}" for k, v in env.items())
        assert key.hex() not in text and key.hex().upper() not in text
        assert all(key not in part.encode("utf-8", "surrogateescape") for part in [*args, *env.values()])


def test_the_unlock_gives_the_memory_its_load_dropped_back(
    vault: Vault, vault_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the load (and its second process) is done, freed heap pages go back to the system."""
    from vault import book, hardening

    fill(vault)
    vault.close()
    calls: list[bool] = []
    monkeypatch.setattr(book, "return_free_memory", lambda: calls.append(True) or True)
    unlocked(vault_path, clock)
    assert calls == [True]
    assert hardening.return_free_memory() is True  # glibc's malloc_trim is there on this Linux

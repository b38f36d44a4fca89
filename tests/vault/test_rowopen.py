"""A vault without its sealed index (a fresh clone, a lost cache) opened on two cores
(vault.rowopen, issue 15): the same contacts as in one process, every tamper check still
holds whatever the child does, and a child's entry is taken only for the very row the
unlock read."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSPHRASE, FixedClock, draft
from tests.vault.conftest import CHILDREN, ROW_DAMAGE
from vault import index as cache
from vault import rowopen, rowscan
from vault.model import Contact
from vault.service import Vault
from vault.store import reader


@pytest.fixture
def openings(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every stale record counts as many (opened by a second process); the ids each
    child was given are recorded."""
    monkeypatch.setattr(rowopen, "PARALLEL_FROM", 0)
    monkeypatch.setattr(rowopen.rowscan, "has_a_second_core", lambda: True)
    given: list[list[str]] = []
    original = rowopen.Opening.__init__

    def spy(self: rowopen.Opening, path: Path, records_key: bytearray, tag_key: bytearray,
            vault_id: bytes, ids: list[str]) -> None:  # fmt: skip
        given.append(list(ids))
        original(self, path, records_key, tag_key, vault_id, ids)

    monkeypatch.setattr(rowopen.Opening, "__init__", spy)
    return given


def fill(vault: Vault, count: int = 12) -> list[Contact]:
    return [
        vault.add(draft(name=f"Person {i}", emails=(f"p{i}@example.org",), phones=(f"+49 30 555{i:04d}",)))
        for i in range(count)
    ]


def drop_index(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM index_cache")


def unlocked(path: Path, clock: FixedClock) -> tuple[list[Contact], tuple[str, ...], list[str]]:
    """The contacts, the damaged ids and what a search by phone digits finds."""
    with Vault(path, clock=clock) as v:
        v.unlock(PASSPHRASE)
        found = [c.id for c in v.search("0305550007")]
        return v.contacts(include_restricted=True), v.damaged_ids, found


def index_size(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM index_cache").fetchone()[0])


def test_records_opened_by_a_second_process_are_the_ones_one_process_opens(
    vault: Vault, vault_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    added = fill(vault)
    vault.close()
    drop_index(vault_path)
    alone = unlocked(vault_path, clock)
    assert len(alone[0]) == len(added) and alone[1] == () and len(alone[2]) == 1
    drop_index(vault_path)

    taken: list[int] = []
    given: list[list[str]] = []
    monkeypatch.setattr(rowopen, "PARALLEL_FROM", 0)
    monkeypatch.setattr(rowopen.rowscan, "has_a_second_core", lambda: True)
    original = rowopen.Opening.result

    def spy(self: rowopen.Opening) -> list[cache.Entry] | None:
        answer = original(self)
        taken.append(len(answer or []))
        return answer

    monkeypatch.setattr(rowopen.Opening, "result", spy)
    start = rowopen.start

    def starting(*args: Any) -> rowopen.Opening | None:
        given.append(args[-1])
        return start(*args)

    monkeypatch.setattr(rowopen, "start", starting)
    assert unlocked(vault_path, clock) == alone
    assert len(given) == 1 and 0 < len(given[0]) < len(added)  # the records were shared
    assert taken == [len(given[0])]  # and the child's entries were used
    assert index_size(vault_path) > 0  # the index is sealed again, from both shares
    assert unlocked(vault_path, clock) == alone
    assert len(given) == 1  # ...so the next unlock needs no second process


@pytest.mark.parametrize("child", sorted(CHILDREN))
@pytest.mark.parametrize("damage", sorted(ROW_DAMAGE))
def test_a_damaged_record_is_found_whatever_the_second_process_does(
    vault: Vault,
    vault_path: Path,
    clock: FixedClock,
    openings: list[list[str]],
    monkeypatch: pytest.MonkeyPatch,
    damage: str,
    child: str,
) -> None:
    added = fill(vault)
    vault.close()
    drop_index(vault_path)
    with sqlite3.connect(vault_path) as conn:
        order = [row[0] for row in conn.execute(reader.CONTACT_CHECKS)]
    victim, other = order[-1], order[0]  # the victim is in the child's share
    with sqlite3.connect(vault_path) as conn:
        assert conn.execute(ROW_DAMAGE[damage], {"victim": victim, "other": other}).rowcount == 1
    executable = CHILDREN[child]
    if executable is not None:
        monkeypatch.setattr(rowscan.sys, "executable", executable)
    contacts, damaged, _found = unlocked(vault_path, clock)
    if child != "cannot start":
        assert len(openings) == 1 and victim in openings[0]
    assert damaged == (victim,)
    assert {c.id for c in contacts} == {c.id for c in added} - {victim}


def test_an_entry_made_from_another_version_of_a_row_is_not_taken(
    vault: Vault, vault_path: Path, clock: FixedClock, openings: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child reads its own snapshot: an answer about rows as they were before a change
    (a replayed or stale answer) must not bring the old contents back."""
    added = fill(vault)
    keys = vault._ring.keys
    records_key, tag_key, vault_id = bytes(keys.records), bytes(keys.row_tag), vault._ring.vault_id
    with sqlite3.connect(vault_path) as conn:
        before = rowopen.open_entries(conn.execute(reader.CONTACT_CHECKS), records_key, tag_key, vault_id)
    assert len(before) == len(added)
    changed = added[-1]
    vault.update(changed.id, draft(name="Renamed Person", emails=("p11@example.org",)))
    vault.close()
    drop_index(vault_path)
    monkeypatch.setattr(rowopen.Opening, "result", lambda self: [list(e) for e in before])
    contacts, damaged, _found = unlocked(vault_path, clock)
    assert openings and damaged == ()
    names = {c.id: c.name for c in contacts}
    assert names[changed.id] == "Renamed Person"
    assert {rid: name for rid, name in names.items() if rid != changed.id} == {
        c.id: c.name for c in added if c.id != changed.id
    }


def test_the_keys_reach_the_child_only_on_its_standard_input(
    vault: Vault, vault_path: Path, clock: FixedClock, openings: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(vault)
    vault.close()
    drop_index(vault_path)
    seen: list[tuple[list[str], dict[str, str]]] = []
    popen = rowscan.subprocess.Popen

    def spy(args: list[str], **kw: Any) -> object:
        seen.append((list(args), dict(kw["env"])))
        return popen(args, **kw)

    monkeypatch.setattr(rowscan.subprocess, "Popen", spy)
    with Vault(vault_path, clock=clock) as v:
        v.unlock(PASSPHRASE)
        secrets = [bytes(v._ring.keys.records), bytes(v._ring.keys.row_tag)]
    assert openings and seen
    for args, env in seen:
        text = " ".join(args) + " ".join(f"{k}={v}" for k, v in env.items())
        for key in secrets:
            assert key.hex() not in text.lower()
            assert all(key not in part.encode("utf-8", "surrogateescape") for part in [*args, *env.values()])


CANONICAL = ("id-1", 3, "2030-01-31", None, 0, b"s" * 64, b"sealed", b"")


@pytest.mark.parametrize(
    ("position", "value"),
    [
        (0, b"id-1"),  # an id that is not text
        (1, True),  # a version that is a bool
        (1, "3"),  # ... or text
        (2, "2030-1-31"),  # a date in another spelling
        (2, "2030-01-31 "),
        (2, 20300131),
        (3, "2030-02-30"),  # no such day
        (4, 2),  # a hold that is not 0 or 1
        (4, "0"),
        (5, b"s" * 63),  # a short signature
        (6, "sealed"),  # text where bytes belong
        (7, None),  # no history at all (the store writes x'')
    ],
)
def test_the_child_opens_only_rows_in_the_exact_form_the_store_writes(position: int, value: object) -> None:
    assert rowopen.raw_row(CANONICAL) == ("id-1", date(2030, 1, 31), None, False, 3, b"s" * 64, b"sealed", b"")
    values = list(CANONICAL)
    values[position] = value
    assert rowopen.raw_row(values) is None


def test_the_child_loads_no_orm() -> None:
    """The child's start is part of the unlock it speeds up: SQLAlchemy alone would be ~0.4 s."""
    code = "import sys, vault.rowopen; print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy'}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

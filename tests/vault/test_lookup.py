"""The one-shot read path (vault.lookup): the facade's answer, or none at all (issue 15)."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, FixedClock, draft
from vault import index, rowscan
from vault.errors import WrongPassphrase
from vault.lookup import Found, Lookup
from vault.model import Contact, LegalBasis
from vault.search import contact_keys, could_match, matches, parse_query
from vault.service import Vault

QUERIES = ("", "müller", "MUELLER", "weiss", "soehne 3", "030 1234505", "+49", "0", "anna", "4930", "xyz", "example")


def fill(vault: Vault) -> list[Contact]:
    added = [
        vault.add(draft(name=f"Zoë Øster-Müller {i}", phones=(f"+49 30 12345{i:02d}",), org=f"Weiß & Söhne {i}"))
        for i in range(12)
    ]
    added.append(vault.add(draft(name="Anna Weiss", emails=("anna@example.com",), phones=())))
    added.append(
        vault.add(
            draft(
                name="Consent Person",
                basis=LegalBasis.CONSENT,
                rule="consent",
                trigger=date(2026, 1, 1),
                consent_given=date(2026, 1, 1),
                consent_method="form",
            )
        )
    )
    vault.restrict(added[2].id)
    return added


def facade(path: Path, clock: FixedClock, query: str, restricted: bool) -> tuple[list[Contact], tuple[str, ...]]:
    with Vault(path, clock=clock) as v:
        v.unlock(PASSPHRASE)
        return v.search(query, include_restricted=restricted), v.damaged_ids


def lookup(path: Path, clock: FixedClock, query: str, restricted: bool = False) -> Found | None:
    opened = Lookup.open(path)
    if opened is None:
        return None
    with opened:
        return opened.find(PASSPHRASE, query, include_restricted=restricted, clock=clock)


def file_state(path: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in path.parent.glob(path.name + "*") if p.is_file()
    }


@pytest.mark.parametrize("restricted", [False, True])
def test_the_read_path_gives_exactly_the_facades_hits(
    vault: Vault, vault_path: Path, clock: FixedClock, restricted: bool
) -> None:
    fill(vault)
    vault.close()
    for query in QUERIES:
        expected, damaged = facade(vault_path, clock, query, restricted)
        found = lookup(vault_path, clock, query, restricted)
        assert found is not None, f"the read path did not answer for {query!r} on a clean vault"
        assert found.contacts == expected, query
        assert found.damaged_ids == damaged == ()


def test_the_read_path_writes_nothing_to_the_vault_file(vault: Vault, vault_path: Path, clock: FixedClock) -> None:
    fill(vault)
    vault.close()
    with sqlite3.connect(vault_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = file_state(vault_path)
    assert lookup(vault_path, clock, "müller") is not None
    assert file_state(vault_path) == before


def test_a_wrong_passphrase_is_refused_as_the_facade_refuses_it(
    vault: Vault, vault_path: Path, clock: FixedClock
) -> None:
    fill(vault)
    vault.close()
    opened = Lookup.open(vault_path)
    assert opened is not None
    with opened, pytest.raises(WrongPassphrase):
        opened.find("not the passphrase", "müller", clock=clock)


def test_a_planted_trigger_leaves_the_answer_to_the_facade(vault: Vault, vault_path: Path) -> None:
    fill(vault)
    vault.close()
    with sqlite3.connect(vault_path) as conn:
        conn.execute("CREATE TRIGGER planted AFTER UPDATE ON contacts BEGIN SELECT 1; END")
    assert Lookup.open(vault_path) is None


def test_a_forged_bucket_leaves_the_answer_to_the_facade(vault: Vault, vault_path: Path, clock: FixedClock) -> None:
    fill(vault)
    vault.close()
    with sqlite3.connect(vault_path) as conn:
        bucket, sealed = conn.execute("SELECT bucket, sealed FROM index_cache LIMIT 1").fetchone()
        forged = bytes(sealed[:-1]) + bytes([sealed[-1] ^ 1])
        conn.execute("UPDATE index_cache SET sealed = ? WHERE bucket = ?", (forged, bucket))
    assert lookup(vault_path, clock, "müller") is None
    expected, damaged = facade(vault_path, clock, "müller", False)  # rebuilt from the rows: nothing damaged
    assert damaged == ()
    found = lookup(vault_path, clock, "müller")  # the facade re-sealed the bucket
    assert found is not None and found.contacts == expected


def test_a_damaged_row_is_reported_by_the_facade(vault: Vault, vault_path: Path, clock: FixedClock) -> None:
    added = fill(vault)
    vault.close()
    target = added[5].id
    with sqlite3.connect(vault_path) as conn:
        (sealed,) = conn.execute("SELECT sealed FROM contacts WHERE id = ?", (target,)).fetchone()
        conn.execute("UPDATE contacts SET sealed = ? WHERE id = ?", (bytes([sealed[0] ^ 1]) + sealed[1:], target))
    assert lookup(vault_path, clock, "") is None
    expected, damaged = facade(vault_path, clock, "", True)
    assert damaged == (target,)
    assert target not in {c.id for c in expected}
    assert lookup(vault_path, clock, "") is None  # still damaged: the facade keeps naming it


def test_a_replayed_row_is_reported_by_the_facade(vault: Vault, vault_path: Path, clock: FixedClock) -> None:
    added = fill(vault)
    target = added[4].id
    with sqlite3.connect(vault_path) as conn:
        old = conn.execute("SELECT * FROM contacts WHERE id = ?", (target,)).fetchone()
    vault.update(target, replace(added[4].to_draft(), org="Changed"))
    vault.close()
    with sqlite3.connect(vault_path) as conn:
        conn.execute("DELETE FROM contacts WHERE id = ?", (target,))
        conn.execute(f"INSERT INTO contacts VALUES ({', '.join('?' * len(old))})", old)
    assert lookup(vault_path, clock, "") is None
    _expected, damaged = facade(vault_path, clock, "", True)
    assert damaged == (target,)


def test_a_vault_whose_head_is_older_than_the_device_has_seen_is_refused_by_the_facade(
    vault: Vault, vault_path: Path, clock: FixedClock, tmp_path: Path
) -> None:
    fill(vault)
    vault.close()
    copy = tmp_path / "older.sqlite"
    with sqlite3.connect(vault_path) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    with Vault(vault_path, clock=clock) as v:
        v.unlock(PASSPHRASE)
        v.add(draft(name="Later Person", emails=("later@example.org",), phones=()))
    copy.replace(vault_path)
    for suffix in ("-wal", "-shm"):
        Path(f"{vault_path}{suffix}").unlink(missing_ok=True)
    assert lookup(vault_path, clock, "") is None


def test_the_read_path_loads_neither_the_orm_nor_alembic(vault: Vault, vault_path: Path) -> None:
    fill(vault)
    vault.close()
    code = (
        "import sys; from pathlib import Path; from vault.lookup import Lookup\n"
        "l = Lookup.open(Path(sys.argv[1])); assert l is not None\n"
        "assert l.find(sys.argv[2], 'müller') is not None\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'alembic', 'phonenumbers'}))\n"
    )
    root = Path(__file__).parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code, str(vault_path), PASSPHRASE], capture_output=True, text=True, cwd=root, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_row_deleted_behind_the_vaults_back_is_reported_by_the_facade(
    vault: Vault, vault_path: Path, clock: FixedClock
) -> None:
    added = fill(vault)
    vault.close()
    target = added[7].id
    with sqlite3.connect(vault_path) as conn:
        conn.execute("DELETE FROM contacts WHERE id = ?", (target,))
    assert lookup(vault_path, clock, "") is None
    _expected, damaged = facade(vault_path, clock, "", True)
    assert damaged == (target,)


def test_a_bucket_is_skipped_only_when_no_record_in_it_can_match(vault: Vault) -> None:
    """search.could_match is a necessary condition of search.matches over the keys of a bucket."""
    added = fill(vault)
    words = [
        "",
        "müller",
        "mueller",
        "weiss",
        "soehne",
        "3",
        "03",
        "030",
        "+49",
        "0049 30",
        "(0",
        "anna",
        "xyz",
        "12345",
    ]
    queries = [*words, *(f"{a} {b}" for a in words[1:6] for b in words[5:])]
    for contact in added:
        keys = contact_keys(contact)
        for query in queries:
            parsed = parse_query(query)
            if matches(parsed, keys):
                assert could_match(parsed, "x".join(keys)), (query, contact.name)


def test_the_heads_of_a_bucket_are_its_entries_without_their_texts(vault: Vault, vault_path: Path) -> None:
    fill(vault)
    with sqlite3.connect(vault_path) as conn:
        stored = conn.execute("SELECT bucket, sealed FROM index_cache").fetchall()
    keys = vault._ring.keys
    for bucket, sealed in stored:
        text = index.bucket_text(keys.index, vault._ring.vault_id, bucket, sealed)
        assert text is not None
        heads, entries = index.bucket_heads(text), index.parse_bucket(text)
        assert heads is not None and entries is not None
        assert [h[index.ID : index.VERSION + 1] for h in heads] == [e[index.ID : index.VERSION + 1] for e in entries]
    assert index.bucket_heads('[[1,0,"a","t",1,0]]\nx') is not None
    for malformed in ('[[1,0,"a","t",1,-1]]\nxy', '[[true,0,"a","t",1,0]]\nx', '[[1,0,"a","t",1]]\nx', "[]\nx", "x"):
        assert index.bucket_heads(malformed) is None  # stricter than parse_bucket: never looser


@pytest.mark.parametrize("damage", [False, True])
def test_the_rows_tagged_by_a_second_process_give_the_same_answer(
    vault: Vault, vault_path: Path, clock: FixedClock, scans: list[rowscan.Scan], damage: bool
) -> None:
    """Large vaults have their rows tagged by a child process (vault.rowscan): the same hits,
    and a damaged row still leaves the answer to the facade."""
    added = fill(vault)
    vault.close()
    if damage:
        with sqlite3.connect(vault_path) as conn:
            conn.execute("UPDATE contacts SET hold = 1 WHERE id = ?", (added[3].id,))
    found = lookup(vault_path, clock, "müller", True)
    assert scans
    if damage:
        assert found is None
    else:
        expected, _damaged = facade(vault_path, clock, "müller", True)
        assert found is not None and found.contacts == expected


@pytest.mark.parametrize(
    ("executable", "answers"),
    [("/bin/false", False), ("no-such-python", True)],
    ids=["starts and fails: the facade answers", "cannot start: this process tags the rows"],
)
def test_a_second_process_that_fails_never_gives_a_wrong_answer(
    vault: Vault,
    vault_path: Path,
    clock: FixedClock,
    scans: list[rowscan.Scan],
    monkeypatch: pytest.MonkeyPatch,
    executable: str,
    answers: bool,
) -> None:
    fill(vault)
    vault.close()
    monkeypatch.setattr(rowscan.sys, "executable", str(vault_path.parent / executable))
    found = lookup(vault_path, clock, "müller")
    assert scans
    if not answers:
        assert found is None
    else:
        expected, _damaged = facade(vault_path, clock, "müller", False)
        assert found is not None and found.contacts == expected and expected

"""Bit flips and truncations over the vault file and the sync blob (issue 12).

A pristine vault is built once (contacts, a restricted and a held one, a tombstone,
the suppression list, a request, the audit log, the sealed index cache), and a
second copy whose newest commits are still in its write-ahead log.  Each case
copies it with this device's pins, damages one place and runs the installed
`sealbook find --restricted --json ""`.  The places are seeded and spread over
every part of the file: the SQLite file header, the schema, each table's and
index's pages (b-tree page headers, data-bearing bytes, anywhere), free pages,
the WAL, and truncations.

What must hold: the exit code is 0 or 4 (README: damage is 4; per-record damage
keeps 0 with the damaged ids on stderr), never 3 "wrong passphrase", never a
traceback or exit 70; with exit 0 every record of the pristine vault is either
listed unchanged or named on stderr, and nothing appears that was not there.

The blob cases damage the local-folder blob a second device pulls: `sync pull`
must exit 4 and leave that device's vault as it was.

Failures name the seed, the part, the offset and bit, and where the damaged copy
was kept; ``python -m tests.faults.damage`` repeats a flip by hand.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSPHRASE, WEAK_KDF, draft
from tests.faults import damage
from tests.faults.conftest import Outcome, Sealbook, base_seed, open_view, problems, retarget_sync, write_vcards
from vault.model import LegalBasis
from vault.requests import RequestType
from vault.service import Vault

SEED = base_seed(4242)
WORKERS = 2  # the machine has two cores: two cases at a time

VAULT_PARTS = [
    "file header",
    "schema",
    "schema version",
    "key header",
    "records",
    "record indexes",
    "index cache",
    "manifest",
    "tombstones",
    "audit log",
    "suppression list",
    "requests",
    "free pages",
    "write-ahead log",
    "truncated",
]
BLOB_PARTS = [
    "magic",
    "format version",
    "header length",
    "key header",
    "checksum",
    "chunk lengths",
    "first chunk (metadata)",
    "middle chunks",
    "last chunk (FINAL tag)",
    "truncated",
    "appended",
]
# Cases per part: default 2 per vault part and 1 per blob part (41); long 12 and 6 (246).
SCALES = {"default": (2, 1), "long": (12, 6)}

EXIT_DAMAGED = 4
BULK = 30  # contacts with long notes
WRONG_PASSPHRASE = "passphrase is wrong"


@dataclass(frozen=True)
class Case:
    target: str  # "vault", "wal" (the copy with a write-ahead log) or "blob"
    part: str
    kind: str  # "flip", "truncate" or "append"
    offset: int
    bit: int = 0

    @property
    def ident(self) -> str:
        part = "".join(c if c.isalnum() else "_" for c in self.part)
        return f"{self.target}-{part}-{self.kind}-{self.offset}-{self.bit}"

    def describe(self, seed: int) -> str:
        what = {"flip": f"flip bit {self.bit} of byte {self.offset}", "truncate": f"truncate to {self.offset} bytes",
                "append": f"append {self.offset} bytes"}[self.kind]  # fmt: skip
        return f"seed={seed} {self.target} / {self.part}: {what}"


@dataclass
class Verdict:
    case: Case
    outcome: Outcome
    problems: list[str]
    kept: Path

    def report(self, seed: int) -> str:
        return (
            f"{self.case.describe(seed)} -> " + "; ".join(self.problems) + f"\n  damaged copy kept: {self.kept}\n  "
            + self.outcome.describe().replace("\n", "\n  ")
        )  # fmt: skip


@dataclass
class Pristine:
    root: Path
    homes: dict[str, Path]  # target -> the device's home (pins, sync state)
    vault: Path  # closed, no WAL
    wal_vault: Path  # its newest commits still in vault.sqlite-wal
    b: Path  # a second device, one push behind
    folder: Path  # the local-folder remote with the newest blob
    expected: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # target -> id -> contact


# --- the pristine vault ------------------------------------------------------------------------


def _build(root: Path) -> Pristine:
    home = root / "home"
    sb = Sealbook(home)
    folder = root / "shared"
    folder.mkdir()
    a = root / "a" / "vault.sqlite"
    a.parent.mkdir()
    b = root / "b" / "vault.sqlite"
    b.parent.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        for name, value in sb.xdg().items():
            mp.setenv(name, value)
        mp.setenv("SEALBOOK_NO_KEYRING", "1")
        people = [(f"Pristine Person{j}", f"p{j}@example.org") for j in range(10)]
        with Vault.create(a, PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True) as v:
            v.import_file(write_vcards(root / "people.vcf", people), LegalBasis.CONTRACT, "invoices-8y",
                          date(2025, 3, 10))  # fmt: skip
            ids = sorted(c.id for c in v.contacts())
            filler = random.Random(SEED)
            for j in range(BULK):  # sealed notes do not compress: the blob gets several chunks
                v.add(draft(name=f"Bulk Person{j}", emails=(f"bulk{j}@example.org",), phones=(),
                            notes=filler.randbytes(2000).hex()))  # fmt: skip
            v.update(ids[0], draft(name="Pristine Person0", emails=("p0@example.org",), notes="Changed once."))
            v.erase(ids[1])  # a duty keeps it: restricted and minimised
            v.hold(ids[2], reason="tax audit 2025")
            gone = v.add(draft(name="Gone Person", emails=("gone@example.org",), phones=(), rule="inquiry-6m",
                               trigger=date.today()))  # fmt: skip
            v.erase(gone.id)  # deleted now: a tombstone, the suppression list
            v.open_request(RequestType.ACCESS, [ids[3]], notes="by letter")
            v.sync_setup(str(folder))
            v.sync_push()
        Vault.clone_from(str(folder), b, PASSPHRASE)[0].close()
        with Vault(a) as v:
            v.unlock(PASSPHRASE)
            v.add(draft(name="Newer Person", emails=("newer@example.org",), phones=()))
            v.sync_push()
    # The WAL copy gets its own home: its commits raise the epoch its pins remember.
    wal_home = root / "wal-home"
    shutil.copytree(home, wal_home, symlinks=True)
    wal = root / "wal" / "vault.sqlite"
    wal.parent.mkdir()
    shutil.copy2(a, wal)
    with pytest.MonkeyPatch.context() as mp:
        for name, value in Sealbook(wal_home).xdg().items():
            mp.setenv(name, value)
        mp.setenv("SEALBOOK_NO_KEYRING", "1")
        with closing(sqlite3.connect(wal)) as holder:  # keeps the WAL from being checkpointed away
            holder.execute("SELECT count(*) FROM contacts").fetchall()
            with Vault(wal) as v:
                v.unlock(PASSPHRASE)
                v.add(draft(name="Walled Person", emails=("walled@example.org",), phones=()))
                v.update(ids[4], draft(name="Pristine Person4", emails=("p4-new@example.org",)))
            kept = root / "wal-kept"
            kept.mkdir()
            for suffix in ("", "-wal"):
                shutil.copy2(wal.with_name(wal.name + suffix), kept / f"vault.sqlite{suffix}")
        shutil.rmtree(wal.parent)
        kept.rename(wal.parent)
    assert wal.with_name("vault.sqlite-wal").stat().st_size > 0
    pristine = Pristine(root, {"vault": home, "wal": wal_home, "blob": home}, a, wal, b, folder)
    for target, path in (("vault", a), ("wal", wal), ("blob", b)):  # what `find --json` lists when all is well
        copy = _copy_case(pristine, target, root / f"expect-{target}")
        with pytest.MonkeyPatch.context() as mp:
            for name, value in Sealbook(copy.home).xdg().items():
                mp.setenv(name, value)
            view = open_view(copy.vault)
        assert not view.damaged and path.exists()
        pristine.expected[target] = view.contacts
    return pristine


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Pristine:
    return _build(tmp_path_factory.mktemp("pristine"))


@dataclass
class Copy:
    home: Path
    vault: Path
    folder: Path


def _copy_case(p: Pristine, target: str, where: Path) -> Copy:
    """A private copy of the home (pins, sync state) and of the target's files."""
    shutil.copytree(p.homes[target], where / "home", symlinks=True)
    source = {"vault": p.vault, "wal": p.wal_vault, "blob": p.b}[target]
    shutil.copytree(source.parent, where / "v", symlinks=True)
    folder = where / "shared"
    if target == "blob":
        shutil.copytree(p.folder, folder, symlinks=True)
        retarget_sync(where / "home", p.folder, folder)
    return Copy(where / "home", where / "v" / "vault.sqlite", folder)


# --- the cases ---------------------------------------------------------------------------------


def _pick(rng: random.Random, data: bytes, spans: list[tuple[int, int]], k: int) -> int:
    """An offset in ``spans``: a b-tree page header, a byte that holds data, or anywhere."""
    if k % 3 == 0:
        start, end = rng.choice(spans)
        return start + rng.randrange(min(damage.BTREE_HEADER, end - start))
    if k % 3 == 1:
        bearing = [o for s, e in spans for o in range(s, e) if data[o]]
        if bearing:
            return rng.choice(bearing)
    start, end = rng.choice(spans)
    return rng.randrange(start, end)


def vault_cases(p: Pristine, seed: int, per_part: int) -> list[Case]:
    rng = random.Random(seed)
    data = p.vault.read_bytes()
    ranges = damage.vault_regions(p.vault)
    wal = p.wal_vault.with_name("vault.sqlite-wal").read_bytes()
    page = 4096
    cases: list[Case] = []
    for part in VAULT_PARTS:
        for k in range(per_part):
            if part == "truncated":
                choices = [0, 50, 100, page, len(data) - page, len(data) - 1, rng.randrange(1, len(data))]
                cases.append(Case("vault", part, "truncate", choices[(k + rng.randrange(7)) % 7]))
            elif part == "write-ahead log":
                if k % 4 == 3:
                    cases.append(Case("wal", part, "truncate", rng.randrange(0, len(wal))))
                    continue
                frames = [
                    (32 + i * (24 + page), 32 + i * (24 + page) + 24) for i in range((len(wal) - 32) // (24 + page))
                ]
                spans = [[(0, 32)], frames, [(0, len(wal))]][k % 3]
                start, end = rng.choice(spans)
                cases.append(Case("wal", part, "flip", rng.randrange(start, end), rng.randrange(8)))
            elif part in ranges:
                cases.append(Case("vault", part, "flip", _pick(rng, data, ranges[part], k), rng.randrange(8)))
    return cases


def blob_cases(p: Pristine, seed: int, per_part: int) -> list[Case]:
    rng = random.Random(seed + 1)
    data = (p.folder / "sealbook.blob").read_bytes()
    ranges = damage.blob_regions(data)
    cases: list[Case] = []
    for part in BLOB_PARTS:
        for k in range(per_part):
            if part == "truncated":
                choices = [0, 1, 13, len(data) // 2, len(data) - 1, rng.randrange(1, len(data))]
                cases.append(Case("blob", part, "truncate", choices[(k + rng.randrange(6)) % 6]))
            elif part == "appended":
                cases.append(Case("blob", part, "append", rng.choice([1, 4, 17, 4096])))
            elif part in ranges:
                start, end = rng.choice(ranges[part])
                cases.append(Case("blob", part, "flip", rng.randrange(start, end), rng.randrange(8)))
    return cases


def _apply(case: Case, path: Path) -> None:
    if case.kind == "flip":
        damage.flip(path, case.offset, case.bit)
    elif case.kind == "truncate":
        damage.truncate(path, case.offset)
    else:
        with open(path, "ab") as handle:
            handle.write(bytes(range(256))[: case.offset] * (case.offset // 256 + 1))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- judging -----------------------------------------------------------------------------------


def judge_find(outcome: Outcome, expected: dict[str, dict[str, Any]]) -> list[str]:
    found = problems(outcome, frozenset({0, EXIT_DAMAGED}))
    if outcome.code == 3 or WRONG_PASSPHRASE in outcome.err:
        found.append('"wrong passphrase" for a damaged file')
    if outcome.code != 0:
        return found
    try:
        listed = {c["id"]: c for c in json.loads(outcome.out)}
    except (ValueError, TypeError, KeyError):
        return [*found, "exit 0 but stdout is not the JSON list"]
    for record_id, contact in expected.items():
        if record_id in listed:
            changed = sorted(k for k in contact if listed[record_id].get(k) != contact[k])
            if changed:
                found.append(f"record {record_id} changed without a word: {changed}")
        elif record_id not in outcome.err:
            found.append(f"record {record_id} ({contact['name']}) missing with exit 0 and no warning: a silent loss")
    appeared = sorted(set(listed) - set(expected))
    if appeared:
        found.append(f"records appeared that were not there: {appeared}")
    return found


def run_case(p: Pristine, case: Case, work: Path) -> Verdict:
    where = work.with_name(f"{work.name}-{case.ident}")
    copy = _copy_case(p, case.target, where)
    sb = Sealbook(copy.home)
    if case.target == "blob":
        blob = copy.folder / "sealbook.blob"
        _apply(case, blob)
        shutil.copy2(blob, where / "damaged.blob")
        before = _digest(copy.vault)
        outcome = sb.run("sync", "pull", "--vault", str(copy.vault), "--passphrase-file", "-", "--quiet")
        found = problems(outcome, frozenset({EXIT_DAMAGED}))
        if outcome.code == 3 or WRONG_PASSPHRASE in outcome.err:
            found.append('"wrong passphrase" for a damaged blob')
        if outcome.code == 0:
            found.append("a damaged blob was pulled and merged")
        if _digest(copy.vault) != before:  # something was written: was anything lost?
            after = sb.run("find", "--vault", str(copy.vault), "--passphrase-file", "-", "--restricted", "--json", "")
            found += [f"after the pull: {text}" for text in judge_find(after, p.expected["blob"])]
        return Verdict(case, outcome, found, where / "damaged.blob")
    target = copy.vault.with_name("vault.sqlite-wal") if case.target == "wal" else copy.vault
    _apply(case, target)
    shutil.copytree(copy.vault.parent, where / "damaged", symlinks=True)
    outcome = sb.run("find", "--vault", str(copy.vault), "--passphrase-file", "-", "--restricted", "--json", "")
    return Verdict(case, outcome, judge_find(outcome, p.expected[case.target]), where / "damaged")


class Results:
    """Every case of a scale, run once (two at a time), shared by the tests per part."""

    def __init__(self, p: Pristine, work: Path) -> None:
        self.p = p
        self.work = work
        self.done: dict[str, list[Verdict]] = {}

    def of(self, scale: str) -> list[Verdict]:
        if scale not in self.done:
            per_vault, per_blob = SCALES[scale]
            cases = vault_cases(self.p, SEED, per_vault) + blob_cases(self.p, SEED, per_blob)
            work = Path(tempfile.mkdtemp(dir=self.work, prefix=f"{scale}-"))
            with ThreadPoolExecutor(WORKERS) as pool:
                self.done[scale] = list(
                    pool.map(lambda ic: run_case(self.p, ic[1], work / f"{ic[0]:03d}"), enumerate(cases))
                )
        return self.done[scale]


@pytest.fixture(scope="module")
def results(pristine: Pristine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Results]:
    yield Results(pristine, tmp_path_factory.mktemp("cases"))


# Failures already reproduced exactly by a strict xfail test below: (part, what the run said) -> that test.
# A seeded case that fails only this way is reported as xfail here, not hidden: the reason names it.
KNOWN_BUGS: dict[tuple[str, str], str] = {}  # none open (the schema cases below were fixed)


def _known(verdict: Verdict) -> str | None:
    for (part, says), test in KNOWN_BUGS.items():
        if verdict.case.part == part and says in verdict.outcome.err:
            return test
    return None


def _check(results: Results, scale: str, target: str, part: str) -> None:
    verdicts = [v for v in results.of(scale) if v.case.part == part and (v.case.target == "blob") == (target == "blob")]
    if not verdicts:
        pytest.skip(f"this vault has no {part}")
    failed = [v for v in verdicts if v.problems]
    unknown = [v for v in failed if not _known(v)]
    reports = "\n".join(v.report(SEED) for v in unknown)
    assert not unknown, f"{len(unknown)} of {len(verdicts)} cases failed:\n{reports}"
    if failed:
        pytest.xfail(
            f"{len(failed)} of {len(verdicts)} cases hit a known bug ("
            + ", ".join(sorted({str(_known(v)) for v in failed}))
            + "):\n"
            + "\n".join(v.report(SEED) for v in failed)
        )


def _params(parts: list[str]) -> list[Any]:
    return [pytest.param("default", part, id=part.replace(" ", "-")) for part in parts] + [
        pytest.param("long", part, id=f"long-{part.replace(' ', '-')}", marks=pytest.mark.long) for part in parts
    ]


@pytest.mark.parametrize(("scale", "part"), _params(VAULT_PARTS))
def test_damaged_vault_is_reported_never_lost_silently(results: Results, scale: str, part: str) -> None:
    _check(results, scale, "vault", part)


@pytest.mark.parametrize(("scale", "part"), _params(BLOB_PARTS))
def test_damaged_blob_is_refused_and_nothing_local_changes(results: Results, scale: str, part: str) -> None:
    _check(results, scale, "blob", part)


def test_case_counts() -> None:
    per_vault, per_blob = SCALES["default"]
    assert per_vault * len(VAULT_PARTS) + per_blob * len(BLOB_PARTS) >= 40
    per_vault, per_blob = SCALES["long"]
    assert per_vault * len(VAULT_PARTS) + per_blob * len(BLOB_PARTS) >= 200


# --- cases the seeded runs found, exactly ------------------------------------------------------------


def _damaged_copy(pristine: Pristine, tmp_path: Path, target: str = "vault") -> Copy:
    return _copy_case(pristine, target, tmp_path / "case")


def _find(copy: Copy) -> Outcome:
    return Sealbook(copy.home).run("find", "--vault", str(copy.vault), "--passphrase-file", "-", "--restricted",
                                   "--json", "")  # fmt: skip


def test_a_schema_name_that_is_not_utf8_is_damage_not_a_crash(pristine: Pristine, tmp_path: Path) -> None:
    """A schema row whose name is no longer UTF-8 (pysqlite's UnicodeDecodeError at connect) is VaultDamaged."""
    copy = _damaged_copy(pristine, tmp_path)
    data = copy.vault.read_bytes()
    offset = data.index(b"tabletombstonestombstones") + len("tablet")  # the "o" in the name column
    damage.flip(copy.vault, offset, 7)  # 0x6f becomes 0xef: not UTF-8 on its own
    outcome = _find(copy)
    assert outcome.code == EXIT_DAMAGED and not problems(outcome), outcome.describe()


def test_a_damaged_column_name_in_the_schema_is_damage_not_a_crash(pristine: Pristine, tmp_path: Path) -> None:
    """A column name changed in the schema text is found at open (the columns of every table
    against the head revision's), not at the first query ("no such column")."""
    copy = _damaged_copy(pristine, tmp_path)
    data = copy.vault.read_bytes()
    offset = data.index(b"wrapped_root_key BLOB") + len("wrapped_root_ke")
    damage.flip(copy.vault, offset, 0)  # "y" (0x79) becomes "x"
    outcome = _find(copy)
    assert outcome.code == EXIT_DAMAGED and not problems(outcome), outcome.describe()


def test_a_damaged_schema_version_is_damage_not_a_crash(pristine: Pristine, tmp_path: Path) -> None:
    """A schema version no migration knows is refused before alembic tries to migrate from it."""
    copy = _damaged_copy(pristine, tmp_path)
    with closing(sqlite3.connect(f"file:{copy.vault}?mode=ro&immutable=1", uri=True)) as conn:
        version = str(conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]).encode()
    data = copy.vault.read_bytes()
    start, end = damage.object_pages(copy.vault, "alembic_version")[0]
    damage.flip(copy.vault, data.rindex(version, start, end) + len(version) - 1, 6)  # "5" (0x35) becomes "u"
    outcome = _find(copy)
    assert outcome.code == EXIT_DAMAGED and not problems(outcome), outcome.describe()


def test_a_schema_version_from_a_newer_sealbook_is_refused_as_unsupported(pristine: Pristine, tmp_path: Path) -> None:
    """A revision id this sealbook has no migration for, but shaped like one, is a newer
    sealbook's vault: refused as unsupported (exit 4), never migrated, nothing written."""
    copy = _damaged_copy(pristine, tmp_path)
    with closing(sqlite3.connect(copy.vault)) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
        conn.commit()
    before = copy.vault.read_bytes()
    outcome = _find(copy)
    assert outcome.code == EXIT_DAMAGED and not problems(outcome), outcome.describe()
    assert "newer sealbook" in outcome.err, outcome.describe()
    with closing(sqlite3.connect(f"file:{copy.vault}?mode=ro", uri=True)) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "9999"
    assert copy.vault.read_bytes() == before


def test_a_damaged_manifest_page_is_damage_not_a_crash(pristine: Pristine, tmp_path: Path) -> None:
    """A damaged manifest page (read on the driver's cursor during unlock) is VaultDamaged."""
    copy = _damaged_copy(pristine, tmp_path)
    data = copy.vault.read_bytes()
    leaf = next(start for start, _ in damage.object_pages(copy.vault, "manifest") if data[start] == 0x0D)
    damage.flip(copy.vault, leaf, 0)  # b-tree page type 0x0d (table leaf) becomes 0x0c: no such type
    outcome = _find(copy)
    assert outcome.code == EXIT_DAMAGED and not problems(outcome), outcome.describe()


@pytest.mark.parametrize("action", [b"imported", b"created"])
def test_a_flipped_bit_in_an_audit_row_is_reported(pristine: Pristine, tmp_path: Path, action: bytes) -> None:
    """`log --json` must not show a changed row as if it were written so (issue 12.7)."""
    copy = _damaged_copy(pristine, tmp_path)
    sb = Sealbook(copy.home)
    before = sb.run("log", "--vault", str(copy.vault), "--json", stdin=None)
    assert before.code == 0, before.describe()
    data = copy.vault.read_bytes()
    offset = next(
        data.index(action, start, end)
        for start, end in damage.object_pages(copy.vault, "audit")
        if action in data[start:end]
    )
    damage.flip(copy.vault, offset, 0)  # "i" -> "h", "c" -> "b": still text, another action
    after = sb.run("log", "--vault", str(copy.vault), "--json", stdin=None)
    assert not problems(after, frozenset({0, EXIT_DAMAGED})), after.describe()
    if after.code == 0:
        assert after.out == before.out or after.err.strip(), (
            "the log shows a changed audit row with exit 0 and no warning\n" + after.describe()
        )
    assert after.code == EXIT_DAMAGED and "changed: row" in after.err, after.describe()

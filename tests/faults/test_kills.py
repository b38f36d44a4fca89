"""SIGKILL during every kind of write (issue 12): add, edit, erase, passwd, import,
purge, sync push and sync pull.

The installed `sealbook` runs in a subprocess on a real vault file.  At its first
write (an inotify event in the vault's folder or the device's state folders; one
run in five at its first open instead, to hit the opening steps) a seeded delay
starts; then SIGKILL, unless the command finished first.  A command that finished
must have exited 0, and what it wrote is *acknowledged*.  The delay is drawn from
``random.Random(seed)`` over the span the same command took when it ran to the end
(learnt from the runs that finished, so about one run in seven finishes).

After every kill, in this process through the facade (the same pins as the
command): the vault opens with the passphrase (after `passwd`: exactly one of old
and new), no record is damaged or vanished (the signed manifest), every
acknowledged write is there, a killed write is either wholly there or wholly
absent, no record appears that nobody wrote, a record that is gone has its
tombstone, a purge deleted all the expired records or none (with a tombstone and
a `purged` log row for each), and ``PRAGMA integrity_check`` is ok.  At the end of
each scenario (and every few kills) the same through the command: `find --json`
and `log --json`.  A failure names the seed, the step and the delay; ``pytest -s``
prints per scenario how many kills landed before and after the command's commit.

After a killed `sync push` the next passphrase-less push must work, also when the
kill fell between the upload and the local bookkeeping (issue 12.6: the push saves
its intent before the upload and the next one recognises its own blob); that case
is reproduced exactly by
``test_a_push_cut_off_after_the_upload_does_not_block_the_next_push``.

Default run: 21 kills; ``-m long``: 210.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.conftest import WEAK_KDF, draft
from tests.faults.conftest import (
    OPENS,
    PASSPHRASE,
    WRITES,
    Sealbook,
    Shot,
    View,
    base_seed,
    inotify_available,
    integrity,
    kill_note,
    open_view,
    passphrase_file,
    problems,
    shoot,
    table_ids,
    write_vcards,
)
from vault.errors import WrongPassphrase
from vault.model import LegalBasis
from vault.service import Vault
from vault.sync.errors import SyncStateDamaged
from vault.sync.local import LocalFolder
from vault.sync.state import StateFile, SyncState

pytestmark = pytest.mark.skipif(not inotify_available(), reason="needs Linux inotify to time the kills")

SEED = base_seed(1212)
DEFAULT = {"add": 3, "edit": 3, "erase": 3, "passwd": 3, "import": 2, "purge": 3, "push": 2, "pull": 2}  # 21 kills
LONG = {op: 10 * n for op, n in DEFAULT.items()}  # 210 kills
SCALES = [
    pytest.param(1, id="default"),
    pytest.param(10, id="long", marks=pytest.mark.long),
]
OPEN_TRIGGER_SHARE = 0.2
RECENT = (date.today() - timedelta(days=30)).isoformat()  # inquiry-6m from here: not yet due
EXPIRED_TRIGGER = "2025-01-01"  # inquiry-6m: retention ended 2025-07-01

Contact = dict[str, Any]
Check = Callable[[Contact | None], bool]


def test_the_default_run_kills_at_least_20_times_and_the_long_run_200() -> None:
    assert sum(DEFAULT.values()) >= 20
    assert sum(LONG.values()) >= 200


# --- shooting ---------------------------------------------------------------------------------


class Gun:
    """Seeded shots at one scenario.  The delay is drawn over the span the same kind of
    run took to finish after its trigger: learnt from the runs that finished, and until
    one has, grown by a third after each kill (so the last steps get their kills too)."""

    FIRST_SPAN: ClassVar[dict[int, float]] = {WRITES: 0.25, OPENS: 0.7}

    def __init__(self, sb: Sealbook, seed: int, watch: list[Path]) -> None:
        self.sb = sb
        self.seed = seed
        self.rng = random.Random(seed)
        self.watch = watch
        self.spans: dict[tuple[str, int], float] = {}
        self.learnt: set[tuple[str, int]] = set()
        self.kills: Counter[str] = Counter()
        self.finished: Counter[str] = Counter()
        self.landed: Counter[str] = Counter()  # killed runs whose write was already committed, or not yet
        self.step = 0

    def fire(self, op: str, args: list[str], *, stdin: Path | None = None) -> Shot:
        self.step += 1
        on = OPENS if self.rng.random() < OPEN_TRIGGER_SHARE else WRITES
        key = (op, on)
        span = self.spans.get(key, self.FIRST_SPAN[on])
        delay = self.rng.uniform(0.0, 1.15) * span
        shot = shoot(self.sb, args, watch=self.watch, delay=delay, on=on, stdin=stdin)
        found = problems(shot.outcome, frozenset({0}))
        assert not found, "; ".join(found) + "\n" + self.note(shot)
        if shot.outcome.killed:
            self.kills[op] += 1
            if key not in self.learnt:
                self.spans[key] = span * 1.33
        else:
            self.finished[op] += 1
            if shot.triggered:
                self.spans[key] = max(span if key in self.learnt else 0.0, shot.ran)
                self.learnt.add(key)
        return shot

    def note(self, shot: Shot) -> str:
        return kill_note(self.seed, self.step, shot)

    def mark(self, op: str, shot: Shot, committed: bool) -> None:
        """Where a kill landed: after the commit, or before it (both must happen over a run)."""
        if shot.outcome.killed:
            self.landed[f"{op} {'after' if committed else 'before'} commit"] += 1

    def tally(self) -> str:
        """For `pytest -s`: what landed."""
        line = (
            f"seed={self.seed}: kills {dict(self.kills)}, finished first {dict(self.finished)}, "
            f"kills by place {dict(sorted(self.landed.items()))}"
        )
        print(line)
        return line

    def until_killed(self, op: str, attempt: Callable[[int], None]) -> None:
        """Run ``attempt`` until one more kill of ``op`` landed."""
        target = self.kills[op] + 1
        for tries in range(12):
            if self.kills[op] >= target:
                return
            attempt(tries)
        assert self.kills[op] >= target, f"no kill of {op} landed in 12 tries (seed={self.seed})"


def state_folders(sb: Sealbook) -> list[Path]:
    data = sb.home / "data" / "sealbook"
    for sub in ("pins", "sync"):
        (data / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
    return [data / "pins", data / "sync"]


# --- what must hold -------------------------------------------------------------------------


class Ledger:
    """What each record may look like now: one check per acknowledged state, two
    (before or after) for a killed write; killed adds are expected by name."""

    def __init__(self, vault: Path) -> None:
        self.vault = vault
        self.allowed: dict[str, list[tuple[str, Check]]] = {}
        self.pending: dict[str, Check] = {}
        self.view: View | None = None

    def adopt(self, view: View) -> None:
        """The observed state becomes the only one allowed."""
        self.view = view
        for record_id in list(self.allowed):
            seen = view.contacts.get(record_id)
            self.allowed[record_id] = [("as seen before", same(seen))]
        for record_id, contact in view.contacts.items():
            self.allowed[record_id] = [("as seen before", same(contact))]
        self.pending.clear()

    def expect(self, record_id: str, label: str, check: Check, *, acknowledged: bool) -> None:
        if acknowledged:
            self.allowed[record_id] = [(label, check)]
        else:
            self.allowed.setdefault(record_id, []).append((label, check))

    def active_ids(self) -> list[str]:
        assert self.view is not None
        return sorted(i for i, c in self.view.contacts.items() if c["state"] == "active")

    def check(self, note: str, passphrase: str = PASSPHRASE) -> View:
        view = open_view(self.vault, passphrase)
        assert not view.damaged, f"records damaged or vanished after a kill: {view.damaged}\n{note}"
        tombstones = table_ids(self.vault, "tombstones")
        before = self.view.contacts if self.view else {}
        for record_id, checks in self.allowed.items():
            seen = view.contacts.get(record_id)
            assert any(check(seen) for _, check in checks), (
                f"record {record_id} is {'gone' if seen is None else seen}; allowed: {[label for label, _ in checks]}"
                f"\n{note}"
            )
            if seen is None and record_id in before:
                assert record_id in tombstones, f"record {record_id} vanished without a tombstone\n{note}"
        for record_id, contact in view.contacts.items():
            if record_id not in self.allowed:
                check = self.pending.get(contact["name"])
                assert check is not None, f"a record nobody wrote appeared: {contact}\n{note}"
                assert check(contact), f"a killed add left a partial record: {contact}\n{note}"
        assert integrity(self.vault) == "ok", f"integrity_check: {integrity(self.vault)}\n{note}"
        self.adopt(view)
        return view


def same(seen: Contact | None) -> Check:
    return lambda now: now == seen


def added(name: str, email: str) -> Check:
    return lambda c: c is not None and c["name"] == name and c["emails"] == [email] and c["state"] == "active"


def edited(name: str, org: str, note: str) -> Check:
    return lambda c: c is not None and (c["name"], c["org"], c["notes"]) == (name, org, note)


def erased(c: Contact | None) -> bool:
    return c is None or (c["state"] == "restricted" and c["erasure_requested"] is not None and not c["notes"])


def cli_check(
    sb: Sealbook, vault: Path, view: View, note: str, passphrase: str = PASSPHRASE, *, log: bool = False
) -> None:
    """The same through the command: `find --json` lists exactly the records (and `log --json` reads)."""
    found = sb.run("find", "--vault", str(vault), "--passphrase-file", "-", "--restricted", "--json", "",
                   stdin=passphrase + "\n")  # fmt: skip
    assert found.code == 0 and not problems(found) and "damaged" not in found.err, found.describe() + "\n" + note
    listed = {c["id"]: c for c in json.loads(found.out)}
    assert set(listed) == set(view.contacts), f"find lists {sorted(listed)}, unlock {sorted(view.contacts)}\n{note}"
    for record_id, contact in view.contacts.items():
        for key in ("name", "emails", "org", "notes", "state", "hold", "meta_version"):
            assert listed[record_id][key] == contact[key], f"{record_id}.{key} differs in find --json\n{note}"
    if log:
        entries = sb.run("log", "--vault", str(vault), "--json", stdin=None)
        assert entries.code == 0 and not problems(entries), entries.describe()
        assert [(e["action"], e["record_id"]) for e in json.loads(entries.out)] == view.log, note


def vault_args(vault: Path, pass_file: Path) -> list[str]:
    return ["--vault", str(vault), "--passphrase-file", str(pass_file)]


def schedule(rng: random.Random, quotas: dict[str, int]) -> list[str]:
    ops = [op for op, n in quotas.items() for _ in range(n)]
    rng.shuffle(ops)
    return ops


# --- setting the scene through the facade (quicker than a command; not what is killed) ----------


def make_vault(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Vault.create(path, PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True).close()
    return path


def import_here(vault: Path, source: Path, rule: str, trigger: str) -> None:
    with Vault(vault) as v:
        v.unlock(PASSPHRASE)
        v.import_file(source, LegalBasis.CONTRACT, rule, date.fromisoformat(trigger))


def add_here(vault: Path, name: str, email: str, **fields: object) -> str:
    with Vault(vault) as v:
        v.unlock(PASSPHRASE)
        return v.add(draft(name=name, emails=(email,), phones=(), notes="", **fields)).id


# --- add, edit, erase ---------------------------------------------------------------------------


@pytest.mark.parametrize("scale", SCALES)
def test_kill_during_add_edit_erase(sealbook: Sealbook, tmp_path: Path, scale: int) -> None:
    quotas = {op: DEFAULT[op] * scale for op in ("add", "edit", "erase")}
    vault = make_vault(tmp_path / "v" / "vault.sqlite")
    pf = passphrase_file(tmp_path / "pass.txt")
    people = [(f"Seed Person{j}", f"seed{j}@example.org") for j in range(8)]
    import_here(vault, write_vcards(tmp_path / "seed.vcf", people), "inquiry-6m", RECENT)
    gun = Gun(sealbook, SEED, [vault.parent, *state_folders(sealbook)])
    ledger = Ledger(vault)
    ledger.adopt(open_view(vault))
    counter = iter(range(10**6))

    def add(_try: int) -> None:
        n = next(counter)
        name, email = f"Added Person{n}", f"added{n}@example.org"
        shot = gun.fire("add", ["add", *vault_args(vault, pf), "--name", name, "--email", email, "--basis",
                                "contract", "--rule", "invoices-8y", "--trigger", "2025-03-10"])  # fmt: skip
        if shot.outcome.killed:
            ledger.pending[name] = added(name, email)
        else:
            ledger.expect(shot.outcome.out.strip(), "added", added(name, email), acknowledged=True)
        view = settle(shot)
        gun.mark("add", shot, any(c["name"] == name for c in view.contacts.values()))

    def edit(_try: int) -> None:
        n = next(counter)
        assert ledger.view is not None
        target = gun.rng.choice(ledger.active_ids())
        name = ledger.view.contacts[target]["name"]
        org, note = f"Org {n}", f"Note {n}"
        shot = gun.fire("edit", ["edit", *vault_args(vault, pf), target, "--org", org, "--note", note])
        ledger.expect(target, "edited", edited(name, org, note), acknowledged=not shot.outcome.killed)
        view = settle(shot)
        gun.mark("edit", shot, view.contacts.get(target, {}).get("org") == org)

    def erase(_try: int) -> None:
        target = gun.rng.choice(ledger.active_ids())
        shot = gun.fire("erase", ["erase", *vault_args(vault, pf), target, "--yes", "--not-needed-for-claims"])
        ledger.expect(target, "erased", erased, acknowledged=not shot.outcome.killed)
        view = settle(shot)
        gun.mark("erase", shot, erased(view.contacts.get(target)))

    def settle(shot: Shot) -> View:
        view = ledger.check(gun.note(shot))
        if scale > 1 and gun.step % 8 == 0:
            cli_check(sealbook, vault, view, gun.note(shot))
        if len(ledger.active_ids()) < 3:  # keep something to edit and erase
            spare = add_here(vault, f"Spare Person{gun.step}", f"spare{gun.step}@example.org")
            ledger.expect(spare, "added", lambda c: c is not None, acknowledged=True)
            ledger.check("after adding a spare record")
        return view

    actions = {"add": add, "edit": edit, "erase": erase}
    for op in schedule(gun.rng, quotas):
        gun.until_killed(op, actions[op])
    assert ledger.view is not None
    gun.tally()
    cli_check(sealbook, vault, ledger.view, f"end of run, seed={SEED}", log=True)
    assert all(gun.kills[op] >= n for op, n in quotas.items()), gun.kills


# --- passwd ---------------------------------------------------------------------------------------


def opens_with(vault: Path, passphrase: str, note: str) -> View | None:
    """The view, or None for "wrong passphrase"; anything else fails the test."""
    try:
        return open_view(vault, passphrase)
    except WrongPassphrase:
        return None
    except Exception as error:  # a kill must never leave a vault that opens with neither
        raise AssertionError(f"unlock after the kill: {type(error).__name__}: {error}\n{note}") from error


@pytest.mark.parametrize("scale", SCALES)
def test_kill_during_passwd_leaves_exactly_one_passphrase(sealbook: Sealbook, tmp_path: Path, scale: int) -> None:
    vault = make_vault(tmp_path / "v" / "vault.sqlite")
    people = [(f"Kept Person{j}", f"kept{j}@example.org") for j in range(5)]
    import_here(vault, write_vcards(tmp_path / "p.vcf", people), "invoices-8y", "2025-03-10")
    gun = Gun(sealbook, SEED + 1, [vault.parent, *state_folders(sealbook)])
    before = {i: (c["name"], c["emails"]) for i, c in open_view(vault).contacts.items()}
    current = PASSPHRASE
    counter = iter(range(10**6))

    def passwd(_try: int) -> None:
        nonlocal current
        new = f"{PASSPHRASE} {next(counter)}"
        old_file = passphrase_file(tmp_path / "old.txt", current)
        new_file = passphrase_file(tmp_path / "new.txt", new)
        rotate = ["--rotate"] if gun.rng.random() < 0.34 else []
        shot = gun.fire("passwd", ["passwd", "--vault", str(vault), "--passphrase-file", str(old_file),
                                   "--new-passphrase-file", str(new_file), *rotate])  # fmt: skip
        note = gun.note(shot)
        with_new, with_old = opens_with(vault, new, note), opens_with(vault, current, note)
        assert (with_new is None) != (with_old is None), (
            f"after the kill {'both' if with_new else 'neither'} of old and new passphrase open the vault\n{note}"
        )
        if not shot.outcome.killed:
            assert with_new is not None, f"passwd exited 0 but the new passphrase does not open the vault\n{note}"
        view = with_new or with_old
        assert view is not None
        current = new if with_new else current
        gun.mark("passwd", shot, with_new is not None)
        assert not view.damaged, f"damaged after passwd: {view.damaged}\n{note}"
        after = {i: (c["name"], c["emails"]) for i, c in view.contacts.items()}
        assert after == before, f"the records changed across passwd\n{note}"
        assert integrity(vault) == "ok", note

    for _ in range(DEFAULT["passwd"] * scale):
        gun.until_killed("passwd", passwd)
    gun.tally()
    cli_check(sealbook, vault, open_view(vault, current), f"end of run, seed={SEED + 1}", current)
    wrong = sealbook.run("find", "--vault", str(vault), "--passphrase-file", "-", "x", stdin="not the passphrase\n")
    assert wrong.code == 3 and not problems(wrong), wrong.describe()


# --- import -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", SCALES)
def test_kill_during_import_is_all_or_nothing(sealbook: Sealbook, tmp_path: Path, scale: int) -> None:
    vault = make_vault(tmp_path / "v" / "vault.sqlite")
    pf = passphrase_file(tmp_path / "pass.txt")
    gun = Gun(sealbook, SEED + 2, [vault.parent, *state_folders(sealbook)])
    ledger = Ledger(vault)
    ledger.adopt(open_view(vault))
    size = 25
    counter = iter(range(10**6))

    def batch(_try: int) -> None:
        n = next(counter)
        people = [(f"Batch{n} Person{j}", f"b{n}-{j}@example.org") for j in range(size)]
        source = write_vcards(tmp_path / f"batch{n}.vcf", people)
        shot = gun.fire("import", ["import", str(source), *vault_args(vault, pf), "--basis", "contract", "--rule",
                                   "invoices-8y", "--trigger", "2025-03-10"])  # fmt: skip
        for name, email in people:
            ledger.pending[name] = added(name, email)
        note = gun.note(shot)
        view = ledger.check(note)
        landed = sum(1 for c in view.contacts.values() if c["name"].startswith(f"Batch{n} "))
        assert landed in ((0, size) if shot.outcome.killed else (size,)), f"{landed} of {size} imported\n{note}"
        gun.mark("import", shot, landed == size)

    for _ in range(DEFAULT["import"] * scale):
        gun.until_killed("import", batch)
    assert ledger.view is not None
    gun.tally()
    cli_check(sealbook, vault, ledger.view, f"end of run, seed={SEED + 2}")


# --- purge --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", SCALES)
def test_kill_during_purge_deletes_all_expired_or_none(sealbook: Sealbook, tmp_path: Path, scale: int) -> None:
    vault = make_vault(tmp_path / "v" / "vault.sqlite")
    live = [(f"Live Person{j}", f"live{j}@example.org") for j in range(4)]
    import_here(vault, write_vcards(tmp_path / "live.vcf", live), "inquiry-6m", RECENT)
    held = add_here(vault, "Held Person", "held@example.org", rule="inquiry-6m", trigger=date(2025, 1, 1))
    with Vault(vault) as v:
        v.unlock(PASSPHRASE)
        v.hold(held, reason="tax audit")
    gun = Gun(sealbook, SEED + 3, [vault.parent, *state_folders(sealbook)])
    ledger = Ledger(vault)
    ledger.adopt(open_view(vault))
    waiting: set[str] = set()  # expired, not purged yet
    counter = iter(range(10**6))

    def purge(_try: int) -> None:
        if not waiting:
            n = next(counter)
            people = [(f"Expired{n} Person{j}", f"x{n}-{j}@example.org") for j in range(5)]
            import_here(vault, write_vcards(tmp_path / f"expired{n}.vcf", people), "inquiry-6m", EXPIRED_TRIGGER)
            known = set(ledger.allowed)
            ledger.adopt(open_view(vault))
            waiting.update(set(ledger.allowed) - known)
        shot = gun.fire("purge", ["purge", "--vault", str(vault), "--json"])
        note = gun.note(shot)
        for record_id in waiting:
            ledger.expect(record_id, "purged", same(None), acknowledged=not shot.outcome.killed)
        view = ledger.check(note)
        left = waiting & set(view.contacts)
        assert left in (set(), waiting), f"half a purge: {len(left)} of {len(waiting)} expired records left\n{note}"
        gun.mark("purge", shot, not left)
        if not left:
            logged = {record_id for action, record_id in view.log if action == "purged"}
            assert waiting <= logged, f"purged without a `purged` log row: {sorted(waiting - logged)}\n{note}"
            waiting.clear()
        assert held in view.contacts, f"the held record was purged\n{note}"
        if not shot.outcome.killed:
            assert json.loads(shot.outcome.out)["exit_code"] == 0, note

    for _ in range(DEFAULT["purge"] * scale):
        gun.until_killed("purge", purge)
    final = sealbook.run("purge", "--vault", str(vault), "--json", stdin=None)
    assert final.code == 0 and not problems(final), final.describe()
    view = ledger.check("after a final purge")
    assert not waiting & set(view.contacts)
    gun.tally()
    cli_check(sealbook, vault, view, f"end of run, seed={SEED + 3}", log=True)


# --- sync push and pull ---------------------------------------------------------------------------------


def push_here(vault: Path) -> None:
    """A passphrase-less push, as the scheduled purge makes it."""
    with Vault(vault) as v:
        v.sync_push()


def pull_here(vault: Path) -> None:
    with Vault(vault) as v:
        v.unlock(PASSPHRASE)
        v.sync_pull()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def shared_vault(tmp_path: Path) -> tuple[Path, Path]:
    """A vault set up to sync with a local folder, pushed once."""
    vault = make_vault(tmp_path / "a" / "vault.sqlite")
    folder = tmp_path / "shared"
    folder.mkdir()
    with Vault(vault) as v:
        v.sync_setup(str(folder))
    add_here(vault, "First Person", "first@example.org")
    push_here(vault)
    return vault, folder


@pytest.mark.parametrize("scale", SCALES)
def test_kill_during_sync_push(sealbook: Sealbook, tmp_path: Path, scale: int) -> None:
    vault, folder = shared_vault(tmp_path)
    gun = Gun(sealbook, SEED + 4, [vault.parent, folder, *state_folders(sealbook)])
    ledger = Ledger(vault)
    ledger.adopt(open_view(vault))
    counter = iter(range(10**6))

    def push(_try: int) -> None:
        n = next(counter)
        name, email = f"Pushed Person{n}", f"push{n}@example.org"
        ledger.expect(add_here(vault, name, email), "added", added(name, email), acknowledged=True)
        blob = (folder / "sealbook.blob").read_bytes()
        shot = gun.fire("push", ["sync", "push", "--vault", str(vault), "--quiet"])
        note = gun.note(shot)
        remote = folder / "sealbook.blob"
        gun.mark("push", shot, remote.is_file() and remote.read_bytes() != blob)
        ledger.check(note)
        assert (folder / "sealbook.blob").is_file(), f"the remote copy is gone after a killed push\n{note}"
        try:
            push_here(vault)  # the next passphrase-less push (the scheduled purge's)
        except Exception as error:  # RemoteNewer too: a cut-off push's own blob is recognised (issue 12.6)
            raise AssertionError(f"the next push: {type(error).__name__}: {error}\n{note}") from error
        assert not leftovers(folder), f"left-over temp files after a good push: {leftovers(folder)}\n{note}"

    for _ in range(DEFAULT["push"] * scale):
        gun.until_killed("push", push)
    assert ledger.view is not None
    gun.tally()
    cli_check(sealbook, vault, ledger.view, f"end of run, seed={SEED + 4}")
    clone = tmp_path / "clone" / "vault.sqlite"
    clone.parent.mkdir()
    sealbook.ok("sync", "clone", str(folder), "--vault", str(clone), "--passphrase-file", "-", "--quiet")
    assert set(open_view(clone).contacts) == set(ledger.view.contacts)


@pytest.mark.parametrize("scale", SCALES)
def test_kill_during_sync_pull(sealbook: Sealbook, tmp_path: Path, scale: int) -> None:
    a, folder = shared_vault(tmp_path)
    b = tmp_path / "b" / "vault.sqlite"
    b.parent.mkdir()
    Vault.clone_from(str(folder), b, PASSPHRASE)[0].close()
    pf = passphrase_file(tmp_path / "pass.txt")
    gun = Gun(sealbook, SEED + 5, [b.parent, *state_folders(sealbook)])
    ledger = Ledger(b)
    ledger.adopt(open_view(b))
    pushed: dict[str, Check] = {}
    counter = iter(range(10**6))

    def pull(_try: int) -> None:
        n = next(counter)
        name, email = f"From A{n}", f"a{n}@example.org"
        pushed[add_here(a, name, email)] = added(name, email)
        push_here(a)
        if gun.rng.random() < 0.5:  # a write of B's own that the pull must keep
            own, own_email = f"Own B{n}", f"b{n}@example.org"
            ledger.expect(add_here(b, own, own_email), "added", added(own, own_email), acknowledged=True)
        assert ledger.view is not None
        for record_id, check in pushed.items():
            if record_id not in ledger.view.contacts:
                ledger.allowed[record_id] = [("not pulled yet", same(None)), ("pulled", check)]
        shot = gun.fire("pull", ["sync", "pull", *vault_args(b, pf), "--quiet"])
        note = gun.note(shot)
        gun.mark("pull", shot, set(pushed) <= set(ledger.check(note).contacts))
        try:
            pull_here(b)
        except Exception as error:
            raise AssertionError(f"the next pull: {type(error).__name__}: {error}\n{note}") from error
        for record_id, check in pushed.items():
            ledger.allowed[record_id] = [("pulled", check)]
        ledger.check(note + "\n(after the next pull)")

    for _ in range(DEFAULT["pull"] * scale):
        gun.until_killed("pull", pull)
    assert ledger.view is not None
    gun.tally()
    cli_check(sealbook, b, ledger.view, f"end of run, seed={SEED + 5}")


class Killed(BaseException):
    """The process dying at one exact statement: a SIGKILL cannot be aimed that precisely, so
    the kill suite meets this point only now and then (see test_kill_during_sync_push)."""


class DiesAfterUpload(LocalFolder):
    """The real local-folder remote, in a process that dies as soon as its upload has landed:
    before the push's own bookkeeping (state file, content file, the vault's mark)."""

    def put(self, data: bytes, expected: str | None, progress: Any = None, *, forget: bool = False) -> str:
        super().put(data, expected, progress, forget=forget)
        raise Killed


def push_cut_off_after_upload(vault: Path, folder: Path) -> bytes:
    """A locked push of ``vault`` that dies right after its upload; the blob it left there."""
    with Vault(vault) as v, pytest.raises(Killed):
        v.sync_push(DiesAfterUpload(folder))
    return (folder / "sealbook.blob").read_bytes()


def test_a_push_cut_off_after_the_upload_does_not_block_the_next_push(sealbook: Sealbook, tmp_path: Path) -> None:
    """The remote holds exactly the blob this device was uploading: the next passphrase-less push
    takes it as pushed, pushes on (exit 0), and what the cut-off push carried reaches a clone."""
    vault, folder = shared_vault(tmp_path)
    later = add_here(vault, "Later Person", "later@example.org")
    own = push_cut_off_after_upload(vault, folder)
    again = sealbook.run("sync", "push", "--vault", str(vault), "--quiet", stdin=None)
    assert again.code == 0 and not problems(again), again.describe()
    assert (folder / "sealbook.blob").read_bytes() != own  # it pushed on from its own blob
    pushes = [detail for action, detail in open_log_details(vault) if action == "synced"]
    assert pushes[-2:] == ["push 2", "push 3"], pushes  # the cut-off push is logged as done, then the next
    clone = tmp_path / "clone" / "vault.sqlite"
    clone.parent.mkdir()
    sealbook.ok("sync", "clone", str(folder), "--vault", str(clone), "--passphrase-file", "-", "--quiet")
    assert later in open_view(clone).contacts


def test_a_cut_off_push_does_not_take_another_devices_blob_for_its_own(sealbook: Sealbook, tmp_path: Path) -> None:
    """The intent names one blob by its hash: when another device pushed over it meanwhile, the
    locked push still refuses (RemoteNewer, exit 1) and the other device's blob stays."""
    vault, folder = shared_vault(tmp_path)
    other = tmp_path / "b" / "vault.sqlite"
    other.parent.mkdir()
    add_here(vault, "Later Person", "later@example.org")
    push_cut_off_after_upload(vault, folder)
    Vault.clone_from(str(folder), other, PASSPHRASE)[0].close()
    add_here(other, "Other Person", "other@example.org")
    push_here(other)
    theirs = (folder / "sealbook.blob").read_bytes()
    again = sealbook.run("sync", "push", "--vault", str(vault), "--quiet", stdin=None)
    assert again.code == 1 and not problems(again), again.describe()
    assert "not pulled yet" in again.err, again.describe()
    assert (folder / "sealbook.blob").read_bytes() == theirs


def test_a_push_intent_names_one_blob_and_only_until_the_device_moved_past_it() -> None:
    state = SyncState(counter=3, blob_hash="aa", tag="hdr:a")
    assert not state.is_own_upload("bb")  # no push under way
    intent = state.pushing(4, "bb", "2026-12-01T00:00:00+00:00")
    assert intent.is_own_upload("bb")
    assert not intent.is_own_upload("cc")  # another device's blob
    assert not intent.advanced(counter=4).is_own_upload("bb")  # a pull took it in meanwhile: stale
    done = intent.pushed("hdr:b", 1234)
    assert (done.counter, done.blob_hash, done.tag, done.blob_bytes) == (4, "bb", "hdr:b", 1234)
    assert done.last_push == done.last_sync == "2026-12-01T00:00:00+00:00"
    assert not done.is_own_upload("bb") and not done.pushing_hash
    with pytest.raises(ValueError):
        state.pushed("hdr:b", 1)  # nothing was under way


def test_a_state_file_keeps_the_intent_and_refuses_a_damaged_one(tmp_path: Path) -> None:
    file = StateFile("v" * 32, "d" * 16, tmp_path)
    intent = SyncState(counter=3, blob_hash="aa").pushing(4, "bb", "2026-12-01T00:00:00+00:00")
    file.save(intent)
    assert file.load() == intent
    file.path.write_text(json.dumps({"counter": 3, "blob_hash": "aa"}), encoding="utf-8")  # written before intents
    assert file.load() == SyncState(counter=3, blob_hash="aa")
    for damaged in ({"pushing_counter": "4"}, {"pushing_hash": 5}, {"pushing_at": 7}):
        file.path.write_text(json.dumps({"counter": 3, "blob_hash": "aa", **damaged}), encoding="utf-8")
        with pytest.raises(SyncStateDamaged):
            file.load()


def open_log_details(vault: Path) -> list[tuple[str, str]]:
    """(action, detail) of every audit row, in order (through the facade, locked)."""
    with Vault(vault) as v:
        return [(entry.action, entry.detail) for entry in v.audit_log()]

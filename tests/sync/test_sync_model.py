"""Issue 10: a Hypothesis state machine of two or three devices and a hostile server.

Real parts only: real vault files in a temporary folder (cheap KDF through the
API), one real ``LocalFolder`` remote shared by every device (one object per
device), devices B and C cloned with ``Vault.clone_from``, the unattended purge
as ``Vault(path).purge()`` on a locked instance.  The server is the folder
itself: it keeps a copy of every blob written there and may replay one, drop
the current blob, forge one from the public header of a real blob and a
snapshot of its making (``seal_snapshot`` without the push key, as a real
server has none), or stop being hostile (write the newest honest blob back).

The model follows every version of every record by its identity
``(id, meta_version, updated)``: a local edit, hold or release makes a child of
the device's current version; a merge only moves versions between devices.
"A precedes B" means A is B or one of its ancestors.  Invariants, checked after
every step on every device:

* counters only rise (and a refused sync changes nothing at all);
* no held record is deleted: a held version leaves a device only through a
  tombstone of a version that descends from it (a release of that hold, on
  some device, came first), never through the purge, never through a
  concurrent tombstone; a merge that replaces it by a concurrent unheld
  version must at least report a conflict;
* no purged or erased record returns: a device that knows a tombstone never
  shows a version preceding it; a record that reappears on a device that had
  deleted it comes with a conflict report;
* no acknowledged edit is lost without a conflict report: after a successful
  pull (or a push that pulled first) of an honest blob, every version in that
  blob is on the device (or a descendant of it), or deleted by a tombstone
  that descends from it, or reported as a conflict; a version a device had
  pushed is never replaced or deleted on it without one;
* forged blobs are never accepted; no device ever lists a damaged record.

Any ``VaultError`` from push or pull is accepted as a refusal once the server
has been hostile in this example; in examples where it never was, push and
pull must simply work.  Everything else (AssertionError, TypeError, sqlite3
errors) fails the test.

Two kinds of loss can be tolerated, each behind a flag (``TOLERATE_CONCURRENT_EDIT``:
a concurrent version with a lower meta_version dropped without a report;
``TOLERATE_CONCURRENT_TOMBSTONE``: a record, held or not, deleted by a tombstone
of a concurrent version).  Both are off: the regression tests at the end of this
file pin the cases; those still failing are strict xfails, and while they fail
the model can find them too (the long run does).

The default run is small enough for ``make test``; ``make test-long``
(``pytest -m long tests/sync/test_sync_model.py``) runs many more examples.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.conftest import PASSPHRASE, WEAK_KDF, FixedClock, draft
from tests.sync.conftest import later, two_devices
from vault.errors import VaultError
from vault.model import EraseOutcome
from vault.service import Vault
from vault.sync.blob import BlobInfo, blob_hash, read_header, seal_snapshot
from vault.sync.local import LocalFolder
from vault.sync.remote import BLOB_NAME
from vault.sync.report import SyncReport

START = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
ENV_NAMES = ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "SEALBOOK_NO_KEYRING")
DEVICE_NAMES = ("A", "B", "C")
# Known product bugs (see the strict xfail regression tests at the end of this file: the
# merge's timestamp heuristics miss some concurrent edits and holds; issue 10 stays open for
# them).  While a flag is set the model tolerates exactly that loss, so the random runs stay
# green and keep checking everything else; set it to False when its tests pass.
TOLERATE_CONCURRENT_EDIT = False  # test_concurrent_edit_with_a_lower_version_is_reported
TOLERATE_CONCURRENT_TOMBSTONE = False  # test_hold_is_not_deleted_by_a_concurrent_purge
# Days since the last contact of an inquiry (kept six months): most end within a few weeks.
AGES = st.integers(140, 200)

VKey = tuple[str, int, str]  # (record id, meta_version, updated): one version of one record


@dataclass(frozen=True)
class View:
    """One record as a device shows it."""

    vk: VKey
    hold: bool
    retention_end: date | None


@dataclass
class Device:
    name: str
    path: Path
    vault: Vault
    remote: LocalFolder
    view: dict[str, View] = field(default_factory=dict)
    counter: int = 0
    pushed: set[VKey] = field(default_factory=set)  # versions this device had in a blob it pushed
    known_tombs: dict[str, set[VKey]] = field(default_factory=dict)  # tombstones this device stored
    gone: set[str] = field(default_factory=set)  # ids deleted on this device


@dataclass(frozen=True)
class HonestBlob:
    """A blob a device pushed, and what it held by the model."""

    data: bytes
    content: dict[str, VKey]
    tombs: dict[str, frozenset[VKey]]


def _observe(vault: Vault) -> dict[str, View]:
    return {
        c.id: View((c.id, c.meta_version, c.updated.isoformat()), c.hold, c.retention_end)
        for c in vault.contacts(include_restricted=True)
    }


def _forge_blob(honest: bytes, snapshot: Path, *, counter: int, previous: bytes, push_key: bytes | None) -> bytes:
    """What a server that has only seen pushed blobs can build: the public key header of
    a real blob and a snapshot database of its own making, sealed with seal_snapshot
    (which needs only the sync public key).  It has no push key; it may try a random one."""
    header, _offset = read_header(honest)
    info = BlobInfo(counter, "server", previous, "2026-06-15T12:00:00.000000+00:00", snapshot.stat().st_size)
    return seal_snapshot(header, snapshot, info, push_key=push_key)  # type: ignore[arg-type]  # BlobHeader fits


class SyncModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="sealbook-model-"))
        self.saved_env = {name: os.environ.get(name) for name in ENV_NAMES}
        for name in ENV_NAMES[:4]:
            os.environ[name] = str(self.tmp / name.lower())
        os.environ["SEALBOOK_NO_KEYRING"] = "1"
        self.folder = self.tmp / "shared-folder"
        self.folder.mkdir()
        self.blob_path = self.folder / BLOB_NAME
        self.clock = FixedClock(START)
        self.devices: list[Device] = []
        self.parent: dict[VKey, VKey | None] = {}  # the version history of every record
        self.tombstones: dict[str, set[VKey]] = {}  # deleted versions by record id (erase, purge)
        self.reported: dict[str, set[VKey]] = {}  # versions some device's conflict report covered
        self.honest: dict[bytes, HonestBlob] = {}  # by blob hash
        self.seen: list[bytes] = []  # every blob the folder held, in order (the server keeps copies)
        self.newest_honest: bytes | None = None
        self.hostile_allowed = False
        self.tainted = False  # the server has been hostile in this example
        self.serial = 0
        self.known_bug_hits = 0
        self.born: dict[str, int] = {}  # record id -> creation order

    def teardown(self) -> None:
        for device in self.devices:
            with contextlib.suppress(Exception):
                device.vault.close()
            device.remote.close()
        for name, value in self.saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- helpers ---------------------------------------------------------------------------

    def _tick(self) -> None:
        """Every write happens a minute after the last one: ``updated`` names the version."""
        self.clock.moment += timedelta(minutes=1)

    def _device(self, index: int) -> Device:
        return self.devices[index % len(self.devices)]

    def _record(self, device: Device, index: int) -> str | None:
        ids = sorted(device.view, key=self.born.__getitem__)  # by creation, not by random id: replayable
        return ids[index % len(ids)] if ids else None

    def _precedes(self, a: VKey, b: VKey) -> bool:
        """``a`` is ``b`` or one of its ancestors."""
        node: VKey | None = b
        while node is not None:
            if node == a:
                return True
            node = self.parent.get(node)
        return False

    def _remember_blob(self) -> None:
        data = self.blob_path.read_bytes() if self.blob_path.exists() else None
        if data is not None and (not self.seen or self.seen[-1] != data):
            self.seen.append(data)

    def _current_blob(self) -> bytes | None:
        return self.blob_path.read_bytes() if self.blob_path.exists() else None

    def _write_blob(self, data: bytes) -> None:
        self.tainted = True
        self.blob_path.write_bytes(data)
        self._remember_blob()

    def _status_counter(self, device: Device) -> int:
        return device.vault.sync_status().counter

    def _local_edit(self, device: Device, record_id: str, action: str) -> None:
        """An edit, hold, release or restriction: a child of the device's version."""
        old = device.view[record_id]
        self._tick()
        if action == "hold":
            device.vault.hold(record_id)
        elif action == "release":
            if device.vault.release(record_id) is None:  # an erasure waited only for the hold: done now
                self.tombstones.setdefault(record_id, set()).add(old.vk)
                device.known_tombs.setdefault(record_id, set()).add(old.vk)
                new = _observe(device.vault)
                assert record_id not in new, "a release that completes an erasure kept the record"
                self._settle(device, new, conflicts=frozenset())
                return
        else:
            current = device.vault.get(record_id)
            self.serial += 1
            changes: dict[str, object] = {"name": f"Edited Person {self.serial}"}
            if action == "extend" and current.rule == "inquiry-6m":
                changes["trigger"] = device.vault.today()
            device.vault.update(record_id, replace(current.to_draft(), **changes))  # type: ignore[arg-type]
        new = _observe(device.vault)
        assert record_id in new, f"{action} on {device.name} deleted {record_id}"
        child = new[record_id].vk
        assert child[1] == old.vk[1] + 1, f"{action} did not raise the version by one"
        assert child not in self.parent, "two writes made the same version"
        self.parent[child] = old.vk
        self._settle(device, new, conflicts=frozenset())

    def _delete_own(self, device: Device, record_id: str, why: str) -> None:
        """Register a deletion this device made itself (erase, purge): a tombstone of its version."""
        old = device.view[record_id]
        assert not old.hold, f"{why} on {device.name} deleted {record_id}, which is on hold there"
        self.tombstones.setdefault(record_id, set()).add(old.vk)
        device.known_tombs.setdefault(record_id, set()).add(old.vk)

    # --- the checks ----------------------------------------------------------------------------

    def _excused(self, record_id: str, version: VKey, conflicts: frozenset[str]) -> bool:
        """A conflict report (in this step, or on any device when that version met another) covers it."""
        return record_id in conflicts or version in self.reported.get(record_id, set())

    def _concurrent(self, a: VKey, b: VKey) -> bool:
        return not self._precedes(a, b) and not self._precedes(b, a)

    def _known_bug(self, flag: bool, record_id: str, version: VKey) -> bool:
        """A loss one of the known bugs below explains: tolerated while its flag is set, and
        counted as reported so that its consequences on other devices are not blamed twice."""
        if flag:
            self.reported.setdefault(record_id, set()).add(version)
            self.known_bug_hits += 1
        return flag

    def _settle(
        self,
        device: Device,
        new: dict[str, View],
        *,
        conflicts: frozenset[str],
        merged: HonestBlob | None = None,
    ) -> None:
        """Compare the device's last view with ``new`` (after one step) and adopt it."""
        old = device.view
        for record_id, before in old.items():
            after = new.get(record_id)
            if after is None:
                self._check_deleted(device, record_id, before, conflicts)
            elif after.vk != before.vk and not self._precedes(before.vk, after.vk):
                self._check_replaced(device, record_id, before, after, conflicts)
        for record_id, after in new.items():
            assert after.vk in self.parent, f"{device.name}: {record_id} in a version no device wrote"
            if record_id in device.gone and record_id not in old:
                assert record_id in conflicts, f"{device.name}: deleted {record_id} came back without a report"
                device.gone.discard(record_id)
        if merged is not None:
            for record_id, tombs in merged.tombs.items():
                device.known_tombs.setdefault(record_id, set()).update(tombs)
            for record_id, version in merged.content.items():
                self._check_merged(device, record_id, version, old.get(record_id), new.get(record_id), conflicts)
        for record_id, after in new.items():
            for t in device.known_tombs.get(record_id, set()):
                assert not self._precedes(after.vk, t), (
                    f"{device.name}: {record_id} version {after.vk[1]} is back after its deletion (tombstone "
                    f"version {t[1]})"
                )
        device.view = new

    def _check_deleted(self, device: Device, record_id: str, before: View, conflicts: frozenset[str]) -> None:
        """A record left the device: by a tombstone of its own version or a later one, or it is a loss."""
        tombs = self.tombstones.get(record_id, set())
        device.known_tombs.setdefault(record_id, set()).update(tombs)  # whichever deleted it is stored now
        device.gone.add(record_id)
        if any(self._precedes(before.vk, t) for t in tombs):
            return  # erased or purged after this version (a hold on it was released first)
        concurrent = any(t[1] >= before.vk[1] and self._concurrent(before.vk, t) for t in tombs)
        if self._known_bug(TOLERATE_CONCURRENT_TOMBSTONE and concurrent, record_id, before.vk):
            return
        assert not before.hold, (
            f"{device.name}: held record {record_id} (version {before.vk[1]}) deleted by a tombstone of a "
            "concurrent version: nobody released that hold"
        )
        assert before.vk not in device.pushed or self._excused(record_id, before.vk, conflicts), (
            f"{device.name}: pushed version {before.vk[1]} of {record_id} deleted by a concurrent tombstone "
            "without a conflict report"
        )

    def _check_replaced(
        self, device: Device, record_id: str, before: View, after: View, conflicts: frozenset[str]
    ) -> None:
        """A record's version on the device was replaced by one that does not descend from it."""
        assert not self._precedes(after.vk, before.vk), (
            f"{device.name}: {record_id} went back from version {before.vk[1]} to {after.vk[1]}"
        )
        if self._excused(record_id, before.vk, conflicts):
            return
        if self._known_bug(TOLERATE_CONCURRENT_EDIT and after.vk[1] > before.vk[1], record_id, before.vk):
            return
        assert not (before.hold and not after.hold), (
            f"{device.name}: held {record_id} (version {before.vk[1]}) replaced by a concurrent unheld version "
            f"{after.vk[1]} without a conflict report"
        )
        assert before.vk not in device.pushed, (
            f"{device.name}: pushed version {before.vk[1]} of {record_id} replaced by a concurrent version "
            f"{after.vk[1]} without a conflict report"
        )

    def _check_merged(
        self,
        device: Device,
        record_id: str,
        version: VKey,
        before: View | None,
        after: View | None,
        conflicts: frozenset[str],
    ) -> None:
        """A version in the pulled blob: the device has it (or a descendant), or a tombstone after it."""
        if after is not None and self._precedes(version, after.vk):
            return
        stones = device.known_tombs.get(record_id, set())
        if after is None and any(self._precedes(version, t) for t in stones):
            return
        if self._excused(record_id, version, conflicts):
            return
        if after is not None and before is not None and before.vk == after.vk:
            kept_higher = after.vk[1] > version[1] and self._concurrent(version, after.vk)
            if self._known_bug(TOLERATE_CONCURRENT_EDIT and kept_higher, record_id, version):
                return
        if after is None:
            stone_higher = any(t[1] >= version[1] and self._concurrent(version, t) for t in stones)
            if self._known_bug(TOLERATE_CONCURRENT_TOMBSTONE and stone_higher, record_id, version):
                return
        raise AssertionError(
            f"{device.name}: pulled version {version[1]} of {record_id} lost without a conflict report "
            f"(device has {after.vk[1] if after else 'no record'})"
        )

    def _sync(self, device: Device, op: str) -> None:
        before_blob = self._current_blob()
        before_view = device.view
        before_counter = self._status_counter(device)
        try:
            if op == "push":
                report: SyncReport = device.vault.sync_push(device.remote)
            else:
                report = device.vault.sync_pull(device.remote)
        except VaultError:
            if not self.tainted:
                raise  # an honest server: push and pull must work
            assert _observe(device.vault) == before_view, f"{device.name}: a refused {op} changed records"
            assert self._status_counter(device) == before_counter, f"{device.name}: a refused {op} moved the counter"
            return
        merged: HonestBlob | None = None
        if report.action == "pulled" or report.pulled_first:
            assert before_blob is not None
            merged = self.honest.get(blob_hash(before_blob))
            assert merged is not None, f"{device.name} accepted a blob no device pushed ({op})"
        new = _observe(device.vault)
        for record_id in report.conflicts:  # every version that met in this merge was reported
            for view in (before_view.get(record_id), new.get(record_id)):
                if view is not None:
                    self.reported.setdefault(record_id, set()).add(view.vk)
            if merged is not None and record_id in merged.content:
                self.reported.setdefault(record_id, set()).add(merged.content[record_id])
        self._settle(device, new, conflicts=frozenset(report.conflicts), merged=merged)
        if report.action == "pushed":
            data = self._current_blob()
            assert data is not None
            tombs = {rid: frozenset(v) for rid, v in device.known_tombs.items()}
            self.honest[blob_hash(data)] = HonestBlob(data, {rid: v.vk for rid, v in device.view.items()}, tombs)
            device.pushed.update(v.vk for v in device.view.values())
            self.newest_honest = data
            self._remember_blob()
        else:
            assert self._current_blob() == before_blob, f"{device.name}: {report.action} {op} wrote the remote"

    # --- set-up ----------------------------------------------------------------------------------

    @initialize(
        devices=st.integers(2, 3),
        hostile=st.sampled_from([False, False, True]),
        shared=st.lists(st.tuples(st.booleans(), AGES), max_size=3),
    )
    def start(self, devices: int, hostile: bool, shared: list[tuple[bool, int]]) -> None:
        """Device A with a few records, pushed; the others cloned from that blob."""
        self.hostile_allowed = hostile
        a_path = self.tmp / "machine-A" / "vault.sqlite"
        a_path.parent.mkdir()
        a = Vault.create(a_path, PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True, clock=self.clock)
        first = Device("A", a_path, a, LocalFolder(self.folder))
        self.devices.append(first)
        for expiring, age in shared:
            self._add(first, expiring, age)
        self._sync(first, "push")
        for name in DEVICE_NAMES[1:devices]:
            path = self.tmp / f"machine-{name}" / "vault.sqlite"
            vault, _report = Vault.clone_from(None, path, PASSPHRASE, remote=LocalFolder(self.folder), clock=self.clock)
            device = Device(name, path, vault, LocalFolder(self.folder))
            device.counter = self._status_counter(device)
            device.view = _observe(vault)
            assert {rid: v.vk for rid, v in device.view.items()} == {rid: v.vk for rid, v in first.view.items()}
            self.devices.append(device)

    # --- the owner's steps ---------------------------------------------------------------------

    @rule(d=st.integers(0, 2), expiring=st.booleans(), age=AGES)
    def add(self, d: int, expiring: bool, age: int) -> None:
        self._add(self._device(d), expiring, age)

    def _add(self, device: Device, expiring: bool, age: int) -> None:
        self._tick()
        self.serial += 1
        if expiring:  # six months after the last contact: purged (and erased at once) when over
            fields: dict[str, object] = {"rule": "inquiry-6m", "trigger": device.vault.today() - timedelta(days=age)}
        else:  # invoices: kept until 2033, an erasure only restricts
            fields = {}
        # The suppression list (erased people) is tested on its own; here every add is a new person.
        contact = device.vault.add(draft(name=f"Person {self.serial}", **fields), allow_suppressed=True)
        new = _observe(device.vault)
        self.parent[new[contact.id].vk] = None
        self.born[contact.id] = len(self.born)
        self._settle(device, new, conflicts=frozenset())

    @rule(d=st.integers(0, 2), r=st.integers(0, 50), extend=st.booleans())
    def edit(self, d: int, r: int, extend: bool) -> None:
        device = self._device(d)
        record_id = self._record(device, r)
        if record_id is not None:
            self._local_edit(device, record_id, "extend" if extend else "edit")

    @rule(d=st.integers(0, 2), r=st.integers(0, 50))
    def hold(self, d: int, r: int) -> None:
        device = self._device(d)
        record_id = self._record(device, r)
        if record_id is not None and not device.view[record_id].hold:
            self._local_edit(device, record_id, "hold")

    @rule(d=st.integers(0, 2), r=st.integers(0, 50))
    def release(self, d: int, r: int) -> None:
        device = self._device(d)
        record_id = self._record(device, r)
        if record_id is not None and device.view[record_id].hold:
            self._local_edit(device, record_id, "release")

    @rule(d=st.integers(0, 2), r=st.integers(0, 50))
    def erase(self, d: int, r: int) -> None:
        device = self._device(d)
        record_id = self._record(device, r)
        if record_id is None:
            return
        old = device.view[record_id]
        self._tick()
        result = device.vault.erase(record_id)
        new = _observe(device.vault)
        if result.outcome is EraseOutcome.DELETED:
            assert record_id not in new
            self._delete_own(device, record_id, "erase")
        else:
            assert record_id in new, "an erasure that restricts deleted the record"
            if new[record_id].vk != old.vk:
                assert new[record_id].vk[1] == old.vk[1] + 1
                self.parent[new[record_id].vk] = old.vk
        self._settle(device, new, conflicts=frozenset())

    @rule(d=st.integers(0, 2))
    def purge(self, d: int) -> None:
        """The unattended purge: a locked instance, no passphrase (sync is not configured: no push)."""
        device = self._device(d)
        self._tick()
        today = device.vault.today()
        with Vault(device.path, clock=self.clock) as locked:
            report = locked.purge()
        assert report.refused == (), f"{device.name}: the purge refused {report.refused} in an untouched file"
        assert report.scrubbed
        device.vault.refresh()
        purged = {p.record_id for p in report.purged}
        for record_id in purged:
            before = device.view.get(record_id)
            assert before is not None, f"{device.name}: the purge deleted {record_id}, which it did not show"
            assert before.retention_end is not None and before.retention_end < today
            self._delete_own(device, record_id, "the purge")
        new = _observe(device.vault)
        assert purged == set(device.view) - set(new), f"{device.name}: the purge's report and the file disagree"
        self._settle(device, new, conflicts=frozenset())

    @rule(d=st.integers(0, 2))
    def push(self, d: int) -> None:
        self._tick()
        self._sync(self._device(d), "push")

    @rule(d=st.integers(0, 2))
    def pull(self, d: int) -> None:
        self._tick()
        self._sync(self._device(d), "pull")

    @rule(days=st.integers(1, 60))
    def time_passes(self, days: int) -> None:
        self.clock.moment += timedelta(days=days)

    # --- the hostile server --------------------------------------------------------------------

    @precondition(lambda self: self.hostile_allowed)
    @rule(
        action=st.sampled_from(["replay", "replay", "forge", "forge", "drop", "heal"]),
        i=st.integers(0, 50),
        how=st.sampled_from(["expire", "release", "tombstone", "bump", "none"]),
        counter=st.sampled_from(["next", "huge", "same"]),
        random_key=st.booleans(),
    )
    def server(self, action: str, i: int, how: str, counter: str, random_key: bool) -> None:
        """One step of the server: replay an older blob, forge one, drop the blob, or stop
        being hostile (put the newest honest blob back)."""
        if action == "replay" and len(self.seen) > 1:
            self._write_blob(self.seen[i % (len(self.seen) - 1)])
        elif action == "forge" and self.seen:
            self._forge(self._device(i), how, i, counter, random_key)
        elif action == "drop":
            self.tainted = True
            self.blob_path.unlink(missing_ok=True)
        elif action == "heal" and self.newest_honest is not None:
            self._write_blob(self.newest_honest)

    def _forge(self, device: Device, how: str, r: int, counter: str, random_key: bool) -> None:
        """A blob built from the public header of a real one and a snapshot the server made:
        a copy of a real vault file with rows changed (it may even have had such a copy)."""
        snapshot = self.tmp / f"forged-{len(self.seen)}.db"
        snapshot.unlink(missing_ok=True)
        with (
            contextlib.closing(sqlite3.connect(device.path)) as src,
            contextlib.closing(sqlite3.connect(snapshot)) as dst,
        ):
            src.backup(dst)
        with contextlib.closing(sqlite3.connect(snapshot)) as conn:
            target = self._record(device, r)
            if target is not None and how == "expire":
                conn.execute("UPDATE contacts SET retention_end = '2000-01-01', hold = 0 WHERE id = ?", (target,))
            elif target is not None and how == "release":
                conn.execute("UPDATE contacts SET hold = 0, meta_version = meta_version + 1 WHERE id = ?", (target,))
            elif target is not None and how == "tombstone":
                version = conn.execute("SELECT meta_version FROM contacts WHERE id = ?", (target,)).fetchone()[0]
                conn.execute(
                    "INSERT OR REPLACE INTO tombstones (id, deleted_at, reason, retention_end, signature, "
                    "meta_version, meta_sig) VALUES (?, '2026-06-15 12:00:00.000000', 'erased', '2000-01-01', ?, ?, ?)",
                    (target, os.urandom(64), version + 1, os.urandom(64)),
                )
            elif target is not None and how == "bump":
                conn.execute("UPDATE contacts SET meta_version = meta_version + 5 WHERE id = ?", (target,))
            conn.commit()
        current = self._current_blob()
        honest = current if current is not None and current[:8] == b"SEALSYNC" else self.seen[-1]
        number = {"next": len(self.seen) + 1, "huge": 2**62 - 1, "same": max(1, len(self.seen))}[counter]
        forged = _forge_blob(
            honest,
            snapshot,
            counter=number,
            previous=blob_hash(current) if current else bytes(32),
            push_key=os.urandom(32) if random_key else None,
        )
        self._write_blob(forged)

    # --- invariants after every step -------------------------------------------------------------

    @invariant()
    def counters_only_rise_and_nothing_is_damaged(self) -> None:
        for device in self.devices:
            counter = self._status_counter(device)
            assert counter >= device.counter, f"{device.name}: counter fell from {device.counter} to {counter}"
            device.counter = counter
            assert device.vault.damaged_ids == (), f"{device.name} lists damaged records {device.vault.damaged_ids}"
            assert _observe(device.vault) == device.view, f"{device.name} changed outside a step"


# No example database: a run leaves no files behind; a failure prints the steps and a
# @reproduce_failure line to replay it.
SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    "database": None,
    "print_blob": True,
}


def test_sync_model_default() -> None:
    run_state_machine_as_test(
        SyncModel, settings=settings(max_examples=20, stateful_step_count=20, derandomize=True, **SETTINGS)
    )


@pytest.mark.long
def test_sync_model_long() -> None:
    run_state_machine_as_test(SyncModel, settings=settings(max_examples=300, stateful_step_count=40, **SETTINGS))


# --- regression tests: the scenarios behind the flags above ---------------------------------------

EXPIRED = {"rule": "inquiry-6m", "trigger": date(2025, 1, 1)}  # retention ended 2025-07-01


def test_concurrent_edit_with_a_lower_version_is_reported(tmp_path: Path, clock: FixedClock) -> None:
    """A edits R once and pushes (acknowledged); B, which has not pulled, edits R twice.  B's
    pull keeps its version 3 and drops A's version 2 silently; A's pull then replaces its own
    pushed edit by B's, silently too.  Concurrent edits must be reported (DESIGN.md, Sync blob)."""
    a, b, record_id, folder = two_devices(tmp_path, clock)
    try:
        later(clock)
        a.update(record_id, draft(name="Edited On A"))
        later(clock)
        a.sync_push(LocalFolder(folder))
        later(clock)
        b.update(record_id, draft(name="Edited On B"))
        later(clock)
        b.update(record_id, draft(name="Edited On B Again"))
        later(clock)
        pulled = b.sync_pull(LocalFolder(folder))
        later(clock)
        pushed = b.sync_push(LocalFolder(folder))
        later(clock)
        back = a.sync_pull(LocalFolder(folder))
        assert a.get(record_id).name == b.get(record_id).name == "Edited On B Again"
        reports = pulled.conflicts + pushed.conflicts + back.conflicts
        assert record_id in reports, "A's pushed edit was dropped on both devices without a conflict report"
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("edits_on_a", [1, 2])
def test_hold_is_not_deleted_by_a_concurrent_purge(tmp_path: Path, clock: FixedClock, edits_on_a: int) -> None:
    """R has expired.  B puts it on hold and pushes (version 2, held).  A, which has not
    pulled, edits R (version 2 or 3, unheld) and the unattended purge deletes it there.
    A's push pulls B's held version first and drops it (A's tombstone "beats" it), and B's
    pull deletes the held record.  Nobody ever released that hold; nothing is reported."""
    a, b, record_id, folder = two_devices(tmp_path, clock, **EXPIRED)
    try:
        later(clock)
        b.hold(record_id)
        later(clock)
        b.sync_push(LocalFolder(folder))
        for i in range(edits_on_a):
            later(clock)
            a.update(record_id, draft(name=f"Edited On A {i}", **EXPIRED))
        later(clock)
        with Vault(a.path, clock=clock) as locked:
            assert [p.record_id for p in locked.purge().purged] == [record_id]
        a.refresh()
        later(clock)
        pushed = a.sync_push(LocalFolder(folder))
        later(clock)
        pulled = b.sync_pull(LocalFolder(folder))
        assert record_id in {c.id for c in b.contacts()}, (
            f"the record held on B was deleted (conflicts reported: {pushed.conflicts + pulled.conflicts})"
        )
        assert b.get(record_id).hold
    finally:
        a.close()
        b.close()


# --- still failing after the fix in vault/sync/merge.py (last_sync and held_here) ---------------------
# Both heuristics infer "concurrent" from timestamps; the model finds the cases they miss.


def test_concurrent_edit_pushed_after_the_other_devices_last_sync_is_reported(
    tmp_path: Path, clock: FixedClock
) -> None:
    """A edits R (version 2) but pushes only after B's next sync; B then edits R twice
    (version 3) and pulls: B keeps its version and drops A's acknowledged edit, and A's
    pull replaces it by B's; neither reports a conflict."""
    a, b, record_id, folder = two_devices(tmp_path, clock)
    try:
        later(clock)
        a.update(record_id, draft(name="Edited On A"))
        later(clock)
        b.add(draft(name="Someone Else"))
        later(clock)
        b.sync_push(LocalFolder(folder))  # B's last sync is now after A's edit
        later(clock)
        a.sync_push(LocalFolder(folder))  # A's edit is acknowledged
        later(clock)
        b.update(record_id, draft(name="Edited On B"))
        later(clock)
        b.update(record_id, draft(name="Edited On B Again"))
        later(clock)
        pulled = b.sync_pull(LocalFolder(folder))
        later(clock)
        pushed = b.sync_push(LocalFolder(folder))
        later(clock)
        back = a.sync_pull(LocalFolder(folder))
        assert a.get(record_id).name == b.get(record_id).name == "Edited On B Again"
        reports = pulled.conflicts + pushed.conflicts + back.conflicts
        assert record_id in reports, "A's pushed edit was dropped on both devices without a conflict report"
    finally:
        a.close()
        b.close()


def test_hold_followed_by_an_edit_is_not_deleted_by_a_concurrent_purge(tmp_path: Path, clock: FixedClock) -> None:
    """B holds R and edits it (version 3, held) and pushes.  A, which has not pulled, edits R
    three times (version 4, unheld) and purges it.  A's push drops B's held version, B's
    pull deletes the held record; nobody released the hold and nothing is reported."""
    a, b, record_id, folder = two_devices(tmp_path, clock, **EXPIRED)
    try:
        later(clock)
        b.hold(record_id)
        later(clock)
        b.update(record_id, draft(name="Edited On B While Held", **EXPIRED))
        later(clock)
        b.sync_push(LocalFolder(folder))
        for i in range(3):
            later(clock)
            a.update(record_id, draft(name=f"Edited On A {i}", **EXPIRED))
        later(clock)
        with Vault(a.path, clock=clock) as locked:
            assert [p.record_id for p in locked.purge().purged] == [record_id]
        a.refresh()
        later(clock)
        pushed = a.sync_push(LocalFolder(folder))
        later(clock)
        pulled = b.sync_pull(LocalFolder(folder))
        assert record_id in {c.id for c in b.contacts()}, (
            f"the record held on B was deleted (conflicts reported: {pushed.conflicts + pulled.conflicts})"
        )
        assert b.get(record_id).hold
    finally:
        a.close()
        b.close()


def test_hold_received_from_another_device_is_not_deleted_by_a_concurrent_purge(
    tmp_path: Path, clock: FixedClock
) -> None:
    """C holds R and pushes; B pulls it (version 2, held).  A, which has not pulled, edits R
    twice (version 3, unheld) and purges it, then pushes.  B's pull deletes the held record
    without a report; C's pull keeps it with a conflict: the devices disagree for good."""
    a, b, record_id, folder = two_devices(tmp_path, clock, **EXPIRED)
    c, _report = Vault.clone_from(
        None, tmp_path / "machine-c" / "vault.sqlite", PASSPHRASE, remote=LocalFolder(folder), clock=clock
    )
    try:
        later(clock)
        c.hold(record_id)
        later(clock)
        c.sync_push(LocalFolder(folder))
        later(clock)
        b.sync_pull(LocalFolder(folder))
        assert b.get(record_id).hold
        for i in range(2):
            later(clock)
            a.update(record_id, draft(name=f"Edited On A {i}", **EXPIRED))
        later(clock)
        with Vault(a.path, clock=clock) as locked:
            assert [p.record_id for p in locked.purge().purged] == [record_id]
        a.refresh()
        later(clock)
        a.sync_push(LocalFolder(folder))
        later(clock)
        pulled = b.sync_pull(LocalFolder(folder))
        assert record_id in {x.id for x in b.contacts()}, (
            f"the record held on B (by C) was deleted (conflicts reported: {pulled.conflicts})"
        )
        assert b.get(record_id).hold
    finally:
        a.close()
        b.close()
        c.close()


def test_erased_record_does_not_return_from_a_device_offline_longer_than_the_log_retention(
    tmp_path: Path, clock: FixedClock
) -> None:
    """A erases R and pushes; B, offline, keeps R.  Four and a half years later A unlocks
    (its tombstone for R is dropped), adds a record and pushes; B's push pulls first, sees no
    tombstone, keeps R and pushes it; A's pull adds R again, silently."""
    a, b, record_id, folder = two_devices(tmp_path, clock, rule="consent", trigger=date(2026, 6, 1))
    try:
        later(clock)
        assert a.erase(record_id).outcome is EraseOutcome.DELETED
        later(clock)
        a.sync_push(LocalFolder(folder))
        clock.moment += timedelta(days=4 * 365 + 200)
        a.lock()
        a.unlock(PASSPHRASE)
        later(clock)
        a.add(draft(name="Someone New", emails=("someone.new@example.org",), phones=()))
        later(clock)
        a.sync_push(LocalFolder(folder))
        later(clock)
        b.sync_push(LocalFolder(folder))
        later(clock)
        pulled = a.sync_pull(LocalFolder(folder))
        assert record_id not in {c.id for c in a.contacts()}, (
            f"the erased record is back on A (conflicts reported: {pulled.conflicts})"
        )
    finally:
        a.close()
        b.close()

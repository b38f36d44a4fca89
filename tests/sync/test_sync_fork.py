"""Issue 10 case 8 beyond the race test in test_sync_attacks.py: honest forks are merged and
pushed as max + 1, forks that do not authenticate stay refused, and WebDAV LOCK keeps a
second device from writing the same version on a server that ignores If-Match.

Real parts only: LocalFolder on tmp_path, the wsgidav server of tests/sync/servers.py
(told to ignore If-Match, or to refuse LOCK, through its fault rules), vault files
edited with the sqlite3 module where a device's copy is damaged on purpose.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import draft
from tests.sync.conftest import Pair, fresh_folder, later
from tests.sync.servers import DavServer
from vault.errors import VaultError
from vault.service import Vault
from vault.sync.errors import ForkRefused, RemoteLocked
from vault.sync.remote import BLOB_NAME, Remote
from vault.sync.webdav import POINTER, WebDav

FAST = (0.01, 0.01, 0.01)


def names(vault: Vault) -> set[str]:
    return {c.name for c in vault.contacts()}


def two_version_twos(p: Pair, folder: Path, *, damage_b: bool = False) -> tuple[bytes, bytes]:
    """A and B each push "version 2" without seeing the other's (what a server that ignores
    If-Match allows); returns (A's blob, B's blob).  ``damage_b``: one row of B's vault file
    is flipped first, so B's blob carries a record that does not authenticate."""
    blob = folder / BLOB_NAME
    base = blob.read_bytes()
    p.a.add(draft(name="Fork A"))
    p.a.sync_push(p.remote_a)
    fork_a = blob.read_bytes()
    blob.write_bytes(base)
    os.utime(blob)
    later(p.clock)
    mine = p.b.add(draft(name="Fork B"))
    if damage_b:
        with closing(sqlite3.connect(p.b.path)) as conn:
            sealed = conn.execute("SELECT sealed FROM contacts WHERE id = ?", (mine.id,)).fetchone()[0]
            flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
            conn.execute("UPDATE contacts SET sealed = ? WHERE id = ?", (flipped, mine.id))
            conn.commit()
    p.b.sync_push(p.remote_b)
    fork_b = blob.read_bytes()
    assert p.a.sync_status().counter == p.b.sync_status().counter == 2
    return fork_a, fork_b


def test_honest_fork_is_merged_and_pushed_as_max_plus_one(local_pair: Pair, tmp_path: Path) -> None:
    p = local_pair
    folder = tmp_path / "shared-folder"
    fork_a, _fork_b = two_version_twos(p, folder)
    (folder / BLOB_NAME).write_bytes(fork_a)  # the server ends up with A's version 2

    pulled = p.b.sync_pull(p.remote_b)
    assert pulled.action == "pulled" and pulled.forked
    assert any("both were merged" in note for note in pulled.notes)
    assert names(p.b) == {"Fork A", "Fork B"}

    pushed = p.b.sync_push(p.remote_b)
    assert pushed.action == "pushed" and pushed.counter == 3  # max(2, 2) + 1
    assert p.a.sync_pull(p.remote_a).action == "pulled"
    assert names(p.a) == names(p.b) == {"Fork A", "Fork B"}
    assert p.a.sync_status().counter == p.b.sync_status().counter == 3


def test_a_locked_device_pushing_over_an_honest_fork_needs_the_passphrase_once(
    local_pair: Pair, tmp_path: Path
) -> None:
    """The fork is another device's blob: a locked push refuses (RemoteNewer), unlocked it merges."""
    from vault.sync.errors import RemoteNewer

    p = local_pair
    folder = tmp_path / "shared-folder"
    _fork_a, fork_b = two_version_twos(p, folder)
    (folder / BLOB_NAME).write_bytes(fork_b)  # A sees B's version 2
    p.a.add(draft(name="Later A"))
    p.a.lock()
    with pytest.raises(RemoteNewer):
        p.a.sync_push(p.remote_a)
    from tests.conftest import PASSPHRASE

    p.a.unlock(PASSPHRASE)
    report = p.a.sync_push(p.remote_a)
    assert report.action == "pushed" and report.forked and report.pulled_first and report.counter == 3
    p.b.sync_pull(p.remote_b)
    assert names(p.a) == names(p.b) == {"Fork A", "Fork B", "Later A"}


def test_fork_carrying_a_record_that_does_not_authenticate_stays_refused(local_pair: Pair, tmp_path: Path) -> None:
    """Guard (passes before the fix too, which refused every fork): only an honest fork merges."""
    p = local_pair
    folder = tmp_path / "shared-folder"
    _fork_a, fork_b = two_version_twos(p, folder, damage_b=True)
    (folder / BLOB_NAME).write_bytes(fork_b)
    before = names(p.a)
    with pytest.raises(ForkRefused):
        p.a.sync_pull(p.remote_a)
    assert names(p.a) == before and "Fork B" not in before
    assert p.a.sync_status().counter == 2


class RacingWebDav(WebDav):
    """Runs ``race`` once, just before this device writes the pointer (after its last look)."""

    race: Callable[[], None] | None = None

    def _request(self, method: str, url: str, **kwargs: Any) -> Any:
        if self.race is not None and method == "PUT" and url.endswith(POINTER):
            race, self.race = self.race, None
            race()
        return super()._request(method, url, **kwargs)


def race(p: Pair) -> dict[str, object]:
    """B's whole push runs inside A's, in the window a server ignoring If-Match leaves open."""
    outcome: dict[str, object] = {}

    def b_pushes() -> None:
        try:
            outcome["b"] = p.b.sync_push(p.remote_b)
        except VaultError as error:
            outcome["b"] = error

    racer = threading.Thread(target=b_pushes, daemon=True)

    def run_b() -> None:
        racer.start()
        racer.join(timeout=30)

    assert isinstance(p.remote_a, RacingWebDav)
    p.remote_a.race = run_b
    outcome["a"] = p.a.sync_push(p.remote_a)
    racer.join(timeout=30)
    assert not racer.is_alive()
    return outcome


@pytest.fixture
def racing_pair(dav: DavServer, pair_factory: Callable[[Callable[[], Remote]], Pair]) -> Pair:
    folder = fresh_folder()
    p = pair_factory(lambda: RacingWebDav(dav.folder(folder), dav.user, dav.password, backoff=FAST, timeout=10))
    dav.faults.add("PUT", "ignore-conditions", match=POINTER, times=10_000)  # the server ignores If-Match
    p.a.add(draft(name="Racer A"))
    later(p.clock)
    p.b.add(draft(name="Racer B"))
    return p


def test_lock_on_the_pointer_keeps_a_second_device_from_writing_the_same_version(
    racing_pair: Pair, dav: DavServer
) -> None:
    p = racing_pair
    outcome = race(p)
    assert isinstance(outcome["b"], RemoteLocked), outcome  # "another device is writing right now"
    assert getattr(outcome["a"], "action", None) == "pushed"
    assert any(method == "LOCK" for method, _path, _code in dav.faults.seen)
    pulled = p.b.sync_pull(p.remote_b)
    assert pulled.action == "pulled" and not pulled.forked  # no fork happened at all
    p.b.sync_push(p.remote_b)
    p.a.sync_pull(p.remote_a)
    assert names(p.a) == names(p.b) == {"Racer A", "Racer B"}


def test_race_on_a_server_without_locks_ends_in_an_honest_fork_that_both_devices_merge(
    racing_pair: Pair, dav: DavServer
) -> None:
    p = racing_pair
    dav.faults.add("LOCK", "405", times=10_000)  # no WebDAV locks (class 1 server)
    outcome = race(p)
    assert getattr(outcome["a"], "counter", None) == getattr(outcome["b"], "counter", None) == 2, outcome
    # Both devices believe they wrote version 2; the server holds A's (written last).
    pulled = p.b.sync_pull(p.remote_b)
    assert pulled.forked and names(p.b) == {"Racer A", "Racer B"}
    assert p.b.sync_push(p.remote_b).counter == 3
    assert p.a.sync_pull(p.remote_a).action == "pulled"
    assert names(p.a) == names(p.b) == {"Racer A", "Racer B"}
    assert p.a.sync_status().counter == p.b.sync_status().counter == 3

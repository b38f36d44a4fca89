"""Issue 10, cases 5-10 (and the sync part of case 11): a second device, a hostile
server, a server that ignores If-Match, a dying server, an empty remote file.

Real parts: vault files edited with the sqlite3 module, a real LocalFolder
remote, the real wsgidav server of tests/sync/servers.py (told to ignore
If-Match through its fault rules).  A "server" forges blobs only from what it
has seen: the public header of a pushed blob (vault.sync.blob.read_header) and
``seal_snapshot``, which needs no secret.

Every test is ``xfail(strict=True)`` until the fix for its case lands; the
assertions describe the behaviour the fix must give.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import uuid
from collections.abc import Callable
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSPHRASE, FixedClock, draft
from tests.sync.conftest import Pair, fresh_folder, later, make_vault
from tests.sync.servers import DavServer
from tui.cli import main
from vault.errors import NotAVault, VaultDamaged, VaultError
from vault.records import FORMAT_VERSION
from vault.service import Vault
from vault.sync.blob import BlobInfo, blob_hash, read_header, seal_snapshot
from vault.sync.errors import SyncError
from vault.sync.local import LocalFolder
from vault.sync.remote import BLOB_NAME, Remote
from vault.sync.webdav import POINTER, WebDav

EXPIRED = {"rule": "inquiry-6m", "trigger": date(2025, 1, 1)}  # retention ended 2025-07-01
FAST = (0.01, 0.01, 0.01)
GENERATION = re.compile(r"sealbook-[0-9a-f]{16}\.blob$")
CONTROL = ("\x1b", "\x07", "\x9b")


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """tests/sync/conftest.py isolates the config and data folders; the fix may also keep
    the pinned key, high-water marks and push key in the state folder: isolate it too."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("SEALBOOK_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.delenv("SEALBOOK_VAULT", raising=False)


# --- helpers: the files as an attacker sees them --------------------------------------------------


def connect(path: Path) -> closing[sqlite3.Connection]:
    return closing(sqlite3.connect(path))


def ids_in_file(path: Path) -> set[str]:
    with connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM contacts")}


def tombstone_ids(path: Path) -> set[str]:
    with connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM tombstones")}


def names(vault: Vault) -> set[str]:
    return {c.name for c in vault.contacts()}


def plant_tombstones(path: Path, stones: list[tuple[str, bytes | None, str, str | None]]) -> None:
    """Write (id, signature, reason, retention_end) tombstones into a vault file.  The rows
    they name stay in that file (deleting them would be a second, separate tampering)."""
    with connect(path) as conn:
        for record_id, signature, reason, end in stones:
            conn.execute(
                "INSERT OR REPLACE INTO tombstones (id, deleted_at, reason, retention_end, signature) "
                "VALUES (?, '2026-06-15 12:00:00.000000', ?, ?, ?)",
                (record_id, reason, end, signature),
            )
        conn.commit()


def forge_blob(
    honest: bytes,
    workdir: Path,
    *,
    counter: int,
    contacts: list[tuple[Any, ...]] = (),  # type: ignore[assignment]
    tombstones: list[tuple[Any, ...]] = (),  # type: ignore[assignment]
) -> bytes:
    """What a server that has only seen pushed blobs can build: the public key header of
    a real blob, a snapshot database of its own making, sealed with seal_snapshot (which
    needs only the sync public key)."""
    header, _offset = read_header(honest)
    snapshot = workdir / f"forged-{uuid.uuid4().hex[:8]}.db"
    with connect(snapshot) as conn:
        conn.executescript(
            """
            CREATE TABLE vault_meta (id INTEGER PRIMARY KEY, format_version INTEGER, vault_id BLOB,
                kdf_t INTEGER, kdf_m_kib INTEGER, kdf_p INTEGER, kdf_salt BLOB, wrapped_root_key BLOB,
                sync_public_key BLOB, wrapped_sync_secret_key BLOB, verify_key BLOB);
            CREATE TABLE contacts (id VARCHAR(36) PRIMARY KEY, retention_end DATE, review_at DATE,
                hold BOOLEAN, meta_version INTEGER, meta_sig BLOB, sealed BLOB);
            CREATE TABLE tombstones (id VARCHAR(36) PRIMARY KEY, deleted_at DATETIME, reason VARCHAR(16),
                retention_end DATE, signature BLOB);
            """
        )
        conn.execute(
            "INSERT INTO vault_meta VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                FORMAT_VERSION,
                header.vault_id,
                header.kdf_t,
                header.kdf_m_kib,
                header.kdf_p,
                header.kdf_salt,
                header.wrapped_root_key,
                header.sync_public_key,
                header.wrapped_sync_secret_key,
                header.verify_key,
            ),
        )
        conn.executemany("INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?, ?)", contacts)
        conn.executemany("INSERT INTO tombstones VALUES (?, ?, ?, ?, ?)", tombstones)
        conn.commit()
    info = BlobInfo(counter, "server", blob_hash(honest), "2026-06-15T12:00:00.000000+00:00", snapshot.stat().st_size)
    return seal_snapshot(header, snapshot, info)  # type: ignore[arg-type]  # a frozen dataclass satisfies it


def unsigned_tombstone(record_id: str) -> tuple[str, str, str, str, None]:
    return (record_id, "2026-06-15 12:00:00.000000", "purged", "2020-01-01", None)


@pytest.fixture
def pass_file(tmp_path: Path) -> Path:
    path = tmp_path / "pass.txt"
    path.write_text(PASSPHRASE + "\n")
    path.chmod(0o600)
    return path


# --- case 5: tombstone signatures are not verified ----------------------------------------------


def test_tombstone_with_random_or_no_signature_deletes_nothing_and_is_not_stored_or_pushed_on(
    local_pair: Pair, tmp_path: Path, clock: FixedClock
) -> None:
    """On the code the issue was filed against, B's pull already leaves both records in
    place (today's merge rejects a tombstone whose signature fails, and an unsigned one
    whose local record is not due); what fails is that the unsigned tombstone for an id
    B does not hold is stored and pushed on.  The deletion checks stay as the contract."""
    p = local_pair
    unexpired = p.a.add(draft(name="Unexpired Person"))  # retention until 2033
    held = p.a.add(draft(name="Held Person", **EXPIRED))
    p.a.sync_push(p.remote_a)
    p.b.sync_pull(p.remote_b)
    p.b.hold(held.id)  # on hold on the receiving device
    unknown_random, unknown_unsigned = str(uuid.uuid4()), str(uuid.uuid4())
    forged = {unexpired.id, held.id, unknown_random, unknown_unsigned}
    plant_tombstones(
        p.a.path,
        [
            (unexpired.id, os.urandom(64), "erased", None),  # 64 random bytes as a signature
            (held.id, None, "purged", "2025-07-01"),  # no signature
            (unknown_random, os.urandom(64), "erased", None),
            (unknown_unsigned, None, "purged", "2020-01-01"),
        ],
    )
    p.a.sync_push(p.remote_a)

    p.b.sync_pull(p.remote_b)
    assert {unexpired.id, held.id} <= ids_in_file(p.b.path), "a forged tombstone deleted a record"
    assert p.b.get(held.id).hold and p.b.get(unexpired.id).name == "Unexpired Person"
    assert not tombstone_ids(p.b.path) & forged, "B stored tombstones that do not verify"

    later(clock)
    p.b.add(draft(name="From B"))
    p.b.sync_push(p.remote_b)
    third, _report = Vault.clone_from(
        None, tmp_path / "machine-c" / "vault.sqlite", PASSPHRASE, remote=LocalFolder(tmp_path / "shared-folder"),
        clock=clock,
    )  # fmt: skip
    third.close()
    assert not tombstone_ids(tmp_path / "machine-c" / "vault.sqlite") & forged, "B passed them on"


def test_tombstone_with_random_signature_is_not_stored_by_a_cloning_device(
    local_pair: Pair, tmp_path: Path, clock: FixedClock
) -> None:
    p = local_pair
    kept = p.a.add(draft(name="Unexpired Person"))
    unknown = str(uuid.uuid4())
    plant_tombstones(p.a.path, [(kept.id, os.urandom(64), "erased", None), (unknown, os.urandom(64), "erased", None)])
    p.a.sync_push(p.remote_a)
    clone_path = tmp_path / "machine-c" / "vault.sqlite"
    third, _report = Vault.clone_from(
        None, clone_path, PASSPHRASE, remote=LocalFolder(tmp_path / "shared-folder"), clock=clock
    )
    third.close()
    assert kept.id in ids_in_file(clone_path)
    assert not tombstone_ids(clone_path) & {kept.id, unknown}


# --- case 6: a purged record comes back between two honest devices --------------------------------


def test_purged_record_does_not_come_back_between_two_honest_devices(tmp_path: Path, clock: FixedClock) -> None:
    folder = tmp_path / "shared-folder"
    folder.mkdir()
    a = make_vault(tmp_path / "machine-a" / "vault.sqlite", clock)
    r = a.add(draft(name="Held Then Released", **EXPIRED))
    keep = a.add(draft(name="Kept Contact"))
    a.hold(r.id)
    a.sync_push(LocalFolder(folder))
    b, _report = Vault.clone_from(None, tmp_path / "machine-b" / "vault.sqlite", PASSPHRASE,
                                  remote=LocalFolder(folder), clock=clock)  # fmt: skip
    try:
        assert b.get(r.id).hold
        a.release(r.id)
        a.sync_setup(str(folder))
        a.lock()  # the unattended purge: no passphrase; it pushes
        purged = a.purge()
        assert [x.record_id for x in purged.purged] == [r.id] and not purged.push_pending

        pulled = b.sync_pull(LocalFolder(folder))
        assert pulled.rejected == (), "an authentic purge was reported as 'Rejected'"
        assert r.id not in ids_in_file(b.path)

        later(clock)
        b.update(keep.id, draft(name="Kept Contact Edited"))
        b.sync_push(LocalFolder(folder))
        a.unlock(PASSPHRASE)
        a.sync_pull(LocalFolder(folder))
        assert a.get(keep.id).name == "Kept Contact Edited"
        assert r.id not in ids_in_file(a.path), "the purged record came back"
    finally:
        a.close()
        b.close()


# --- case 7: a server that has only seen pushed blobs ------------------------------------------------


def test_server_forged_blob_with_huge_counter_is_refused_and_honest_devices_keep_syncing(
    local_pair: Pair, tmp_path: Path
) -> None:
    p = local_pair
    p.a.add(draft(name="Anna Honest"))
    p.a.sync_push(p.remote_a)
    p.b.sync_pull(p.remote_b)
    blob = tmp_path / "shared-folder" / BLOB_NAME
    honest = blob.read_bytes()
    unknown = str(uuid.uuid4())
    # 2**62 itself is out of BlobInfo's range and refused already; the largest accepted counter.
    blob.write_bytes(forge_blob(honest, tmp_path, counter=2**62 - 1, tombstones=[unsigned_tombstone(unknown)]))
    before = p.b.sync_status().counter

    with pytest.raises((VaultDamaged, NotAVault, SyncError)):  # all exit 4 or refuse in the CLI
        p.b.sync_pull(p.remote_b)
    assert p.b.sync_status().counter == before, "the forged counter was accepted"
    assert unknown not in tombstone_ids(p.b.path), "a tombstone planted by the server was stored"

    blob.write_bytes(honest)  # the server stops forging (or the owner restores the copy)
    p.a.add(draft(name="Anna Later"))
    p.a.sync_push(p.remote_a)
    p.b.sync_pull(p.remote_b)
    p.b.add(draft(name="Bert Later"))
    p.b.sync_push(p.remote_b)
    p.a.sync_pull(p.remote_a)
    assert names(p.a) == names(p.b) == {"Anna Honest", "Anna Later", "Bert Later"}


# --- case 8: two devices racing on a server that ignores If-Match -------------------------------------


class RacingWebDav(WebDav):
    """A WebDAV backend with a hook: just before it writes the pointer (after its own last
    look at it), ``race`` runs once.  The test lets the other device's whole push run
    there: the window a server that ignores If-Match leaves open."""

    race: Callable[[], None] | None = None

    def _request(self, method: str, url: str, **kwargs: Any) -> Any:
        if self.race is not None and method == "PUT" and url.endswith(POINTER):
            race, self.race = self.race, None
            race()
        return super()._request(method, url, **kwargs)


def test_race_on_a_server_ignoring_if_match_recovers_and_both_devices_converge(
    dav: DavServer, pair_factory: Callable[[Callable[[], Remote]], Pair]
) -> None:
    folder = fresh_folder()
    p = pair_factory(lambda: RacingWebDav(dav.folder(folder), dav.user, dav.password, backoff=FAST, timeout=10))
    dav.faults.add("PUT", "ignore-conditions", match=POINTER, times=10_000)  # the server ignores If-Match
    p.a.add(draft(name="Racer A"))
    p.b.add(draft(name="Racer B"))
    outcome: dict[str, object] = {}

    def b_pushes() -> None:
        try:
            outcome["b"] = p.b.sync_push(p.remote_b)
        except VaultError as error:  # a fix may stop B here (a LOCK or lease held by A): fine
            outcome["b"] = error

    racer = threading.Thread(target=b_pushes, daemon=True)

    def race() -> None:
        racer.start()
        racer.join(timeout=20)  # a fix that makes B wait for A must not deadlock the test

    assert isinstance(p.remote_a, RacingWebDav)
    p.remote_a.race = race
    try:
        p.a.sync_push(p.remote_a)
    except VaultError as error:  # or a fix may stop A: fine too
        outcome["a"] = error
    racer.join(timeout=60)
    assert not racer.is_alive()

    # Afterwards each device pulls and pushes again: no fork refused forever.
    p.b.sync_pull(p.remote_b)
    p.b.sync_push(p.remote_b)
    p.a.sync_pull(p.remote_a)
    p.a.sync_push(p.remote_a)
    p.b.sync_pull(p.remote_b)
    assert names(p.a) == names(p.b) == {"Racer A", "Racer B"}, outcome


# --- case 9: old generations stay on the server -----------------------------------------------------------


class DyingWebDav(WebDav):
    """A WebDAV backend whose server dies right after a generation file was written:
    the upload landed, nothing after it (read-back, pointer, clean-up) gets through."""

    cut_after_generation = False
    dead = False

    def _request(self, method: str, url: str, **kwargs: Any) -> Any:
        from vault.sync.errors import RemoteUnavailable

        if self.dead:
            raise RemoteUnavailable("127.0.0.1: server gone")
        response, data = super()._request(method, url, **kwargs)
        if self.cut_after_generation and method == "PUT" and GENERATION.search(url) and response.status_code < 300:
            self.cut_after_generation, self.dead = False, True
            raise RemoteUnavailable("127.0.0.1: connection reset")
        return response, data


def generations(dav: DavServer, folder: str) -> set[str]:
    return {x.name for x in (dav.root / folder).iterdir() if GENERATION.fullmatch(x.name)}


def cut_push(kind: str, vault: Vault, remote: DyingWebDav, dav: DavServer) -> None:
    """One push cut off mid-upload: by the server (wsgidav keeps the partial body of a
    PUT whose connection dropped, answers 500, the client retries under a new name) or
    by the server dying after the generation landed (the push fails)."""
    if kind == "server-cut":
        dav.faults.add("PUT", "cut", match=".blob")
        vault.sync_push(remote)
        assert any(code == 500 for _m, path, code in dav.faults.seen if path.endswith(".blob"))
        dav.faults.clear()
    else:
        remote.cut_after_generation = True
        with pytest.raises(VaultError):
            vault.sync_push(remote)
        remote.dead = False


@pytest.mark.parametrize("kind", ["server-cut", "client-dies"])
def test_cut_off_pushes_leave_at_most_two_generations_on_the_server(
    dav: DavServer, tmp_path: Path, clock: FixedClock, kind: str
) -> None:
    folder = fresh_folder()
    remote = DyingWebDav(dav.folder(folder), dav.user, dav.password, backoff=FAST, timeout=10)
    vault = make_vault(tmp_path / "machine-a" / "vault.sqlite", clock)
    try:
        vault.add(draft(name="First"))
        vault.sync_push(remote)
        for i in range(3):
            vault.add(draft(name=f"Cut {i}"))
            cut_push(kind, vault, remote, dav)
            vault.add(draft(name=f"Landed {i}"))
            vault.sync_push(remote)
        left = generations(dav, folder)
        assert len(left) <= 2, f"{len(left)} generation files on the server: {sorted(left)}"
    finally:
        vault.close()
        remote.close()


@pytest.mark.parametrize("kind", ["server-cut", "client-dies"])
def test_push_after_a_purge_removes_every_generation_that_held_the_purged_record(
    dav: DavServer, tmp_path: Path, clock: FixedClock, kind: str
) -> None:
    folder = fresh_folder()
    remote = DyingWebDav(dav.folder(folder), dav.user, dav.password, backoff=FAST, timeout=10)
    vault = make_vault(tmp_path / "machine-a" / "vault.sqlite", clock)
    try:
        r = vault.add(draft(name="Purged Person", **EXPIRED))
        vault.sync_push(remote)
        vault.add(draft(name="Cut Off"))
        cut_push(kind, vault, remote, dav)  # a generation holding R is left behind
        vault.add(draft(name="Landed"))
        vault.sync_push(remote)
        held_r = generations(dav, folder)  # every generation so far was written while R existed
        report = vault.purge()
        assert [x.record_id for x in report.purged] == [r.id]
        vault.sync_push(remote)
        left = generations(dav, folder)
        assert left, "the push after the purge left no generation"
        assert not left & held_r, f"generations written before the purge are still there: {sorted(left & held_r)}"
    finally:
        vault.close()
        remote.close()


# --- case 10: an empty remote blob ---------------------------------------------------------------------------


def test_empty_remote_blob_is_refused_as_damaged_on_pull_and_clone(
    local_pair: Pair, tmp_path: Path, clock: FixedClock
) -> None:
    p = local_pair
    (tmp_path / "shared-folder" / BLOB_NAME).write_bytes(b"")
    with pytest.raises(VaultDamaged):
        p.b.sync_pull(p.remote_b)
    target = tmp_path / "machine-c" / "vault.sqlite"
    with pytest.raises(VaultDamaged):
        Vault.clone_from(None, target, PASSPHRASE, remote=LocalFolder(tmp_path / "shared-folder"), clock=clock)
    assert not target.exists()


def test_empty_remote_blob_cli_pull_and_clone_exit_4(
    tmp_path: Path, clock: FixedClock, pass_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    a = make_vault(tmp_path / "a" / "vault.sqlite", clock)
    a.sync_push(LocalFolder(folder))
    a.close()
    b, _report = Vault.clone_from(str(folder), tmp_path / "b" / "vault.sqlite", PASSPHRASE, clock=clock)
    b.close()
    (folder / BLOB_NAME).write_bytes(b"")
    capsys.readouterr()
    pull = main(["sync", "pull", "--vault", str(tmp_path / "b" / "vault.sqlite"), "--passphrase-file",
                 str(pass_file), "--quiet"])  # fmt: skip
    clone = main(["sync", "clone", str(folder), "--vault", str(tmp_path / "c" / "vault.sqlite"),
                  "--passphrase-file", str(pass_file), "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert (pull, clone) == (4, 4), err
    assert "Traceback" not in err and "AssertionError" not in err
    assert not (tmp_path / "c" / "vault.sqlite").exists()


# --- case 11 (sync part): escapes in a forged blob reach the terminal ------------------------------------


def test_sync_pull_does_not_print_escape_sequences_from_a_forged_blob(
    tmp_path: Path, clock: FixedClock, pass_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    a = make_vault(tmp_path / "a" / "vault.sqlite", clock)
    a.add(draft(name="Anna Honest"))
    a.sync_push(LocalFolder(folder))
    a.close()
    b, _report = Vault.clone_from(str(folder), tmp_path / "b" / "vault.sqlite", PASSPHRASE, clock=clock)
    counter = b.sync_status().counter
    b.close()
    escape_id = "\x1b[2K\x1b]0;pwned\x07-evil-record"  # ids are only length-checked (<= 36)
    row = (escape_id, "2024-01-01", None, 0, 1, os.urandom(64), os.urandom(120))
    blob = folder / BLOB_NAME
    blob.write_bytes(forge_blob(blob.read_bytes(), tmp_path, counter=counter + 1, contacts=[row]))
    capsys.readouterr()
    code = main(["sync", "pull", "--vault", str(tmp_path / "b" / "vault.sqlite"), "--passphrase-file",
                 str(pass_file), "--quiet"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code in (0, 4), err
    for text in (out, err):
        for char in CONTROL:
            assert char not in text, f"raw {char!r} from the blob reaches the terminal: {text!r}"

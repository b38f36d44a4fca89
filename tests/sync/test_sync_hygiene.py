"""Issue 10 (and issue 12 for `sync setup`): a push with nothing new uploads nothing,
`sync setup` checks the target and the credentials at once, empty or foreign remote
files are refused cleanly on every backend, and stale copies on the target go.

Real parts: LocalFolder on tmp_path, the wsgidav server and OpenSSH sshd of
tests/sync/servers.py (files planted or aged directly in their folders).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, WEAK_KDF, FixedClock, draft
from tests.sync.conftest import Pair, fresh_folder, later, make_vault
from tests.sync.servers import DavServer, SshServer, free_port
from tui.cli import main
from vault.errors import InvalidInput, VaultDamaged, VaultError
from vault.service import Vault
from vault.sync.errors import (
    BlobDamaged,
    HostKeyUnknown,
    RemoteAuthFailed,
    RemoteRefused,
    RemoteUnreachable,
)
from vault.sync.remote import BLOB_NAME, Remote
from vault.sync.sftp import Sftp
from vault.sync.webdav import POINTER, WebDav

FAST = (0.01, 0.01, 0.01)
EXPIRED = {"rule": "inquiry-6m", "trigger": date(2025, 1, 1)}  # retention ended 2025-07-01
HOUR_AGO = time.time() - 3600
WRITES = ("PUT", "DELETE", "LOCK", "MKCOL", "MOVE")


def names(vault: Vault) -> set[str]:
    return {c.name for c in vault.contacts()}


def dav_remote(dav: DavServer, folder: str) -> WebDav:
    return WebDav(dav.folder(folder), dav.user, dav.password, backoff=FAST, timeout=10)


def sftp_remote(sshd: SshServer, folder: Path) -> Sftp:
    return Sftp(sshd.host, str(folder), port=sshd.port, user=sshd.user, identity=str(sshd.identity),
                known_hosts=sshd.known_hosts, timeout=10)  # fmt: skip


@pytest.fixture
def dav_pair(dav: DavServer, pair_factory: Callable[[Callable[[], Remote]], Pair]) -> tuple[Pair, Path]:
    folder = fresh_folder()
    return pair_factory(lambda: dav_remote(dav, folder)), dav.root / folder


@pytest.fixture
def sftp_pair(sshd: SshServer, pair_factory: Callable[[Callable[[], Remote]], Pair]) -> tuple[Pair, Path]:
    folder = sshd.root / fresh_folder()
    folder.mkdir()
    return pair_factory(lambda: sftp_remote(sshd, folder)), folder


# --- a push with nothing new uploads nothing ---------------------------------------------------


def test_push_with_nothing_changed_uploads_nothing_to_a_local_folder(local_pair: Pair, tmp_path: Path) -> None:
    p = local_pair
    blob = tmp_path / "shared-folder" / BLOB_NAME
    before = blob.read_bytes()
    report = p.a.sync_push(p.remote_a)
    assert (report.action, report.counter) == ("up-to-date", 1)
    assert blob.read_bytes() == before
    assert [e.detail for e in p.a.audit_log(action="synced")] == ["push 1"]  # no second push recorded

    p.a.add(draft(name="Something New"))
    assert p.a.sync_push(p.remote_a).action == "pushed"
    assert p.a.sync_push(p.remote_a).action == "up-to-date"
    p.a.lock()  # the unattended purge's push, with nothing purged: nothing to upload either
    assert p.a.sync_push(p.remote_a).action == "up-to-date"
    assert p.a.sync_status().counter == 2

    p.a.unlock(PASSPHRASE)  # a new passphrase changes the key header: that is new
    p.a.change_passphrase(PASSPHRASE, PASSPHRASE + " v2", kdf=WEAK_KDF, allow_weak_kdf=True)
    assert p.a.sync_push(p.remote_a).action == "pushed"


def test_push_after_pulling_everything_uploads_nothing(local_pair: Pair, tmp_path: Path) -> None:
    p = local_pair
    p.a.add(draft(name="From A"))
    p.a.sync_push(p.remote_a)
    assert p.b.sync_pull(p.remote_b).action == "pulled"
    before = (tmp_path / "shared-folder" / BLOB_NAME).read_bytes()
    assert p.b.sync_push(p.remote_b).action == "up-to-date"
    assert (tmp_path / "shared-folder" / BLOB_NAME).read_bytes() == before
    later(p.clock)
    p.b.add(draft(name="From B"))
    assert p.b.sync_push(p.remote_b).action == "pushed"


def test_push_with_nothing_changed_sends_no_write_to_webdav(dav_pair: tuple[Pair, Path], dav: DavServer) -> None:
    p, _folder = dav_pair
    dav.faults.clear()
    assert p.a.sync_push(p.remote_a).action == "up-to-date"
    assert [m for m, _path, _code in dav.faults.seen if m in WRITES] == []


# --- `sync setup` checks at once ------------------------------------------------------------------


def test_setup_refuses_a_missing_local_folder_and_saves_nothing(tmp_path: Path, clock: FixedClock) -> None:
    vault = make_vault(tmp_path / "vault.sqlite", clock)
    try:
        with pytest.raises(RemoteRefused):
            vault.sync_setup(str(tmp_path / "not-mounted"))
        assert not vault.sync_configured
        assert not (tmp_path / "not-mounted").exists()
    finally:
        vault.close()


@pytest.mark.parametrize(
    "url",
    [
        "https:///",
        "https://",
        "sftp://host:99999/folder",
        "https://host:0/x/",
        "http://dav.example/x/",
        "nextcloud:///x",
    ],
)
def test_setup_refuses_addresses_that_can_never_work(tmp_path: Path, clock: FixedClock, url: str) -> None:
    vault = make_vault(tmp_path / "vault.sqlite", clock)
    try:
        with pytest.raises(InvalidInput):
            vault.sync_setup(url, user="anna")
        assert not vault.sync_configured
    finally:
        vault.close()


def test_setup_with_a_bad_port_is_exit_1_without_a_traceback_and_nothing_is_stored(
    tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "vault.sqlite"
    make_vault(path, clock).close()
    capsys.readouterr()
    assert main(["sync", "setup", "sftp://host:99999/x", "--vault", str(path)]) == 1
    err = capsys.readouterr().err
    assert "port" in err and "Traceback" not in err and "ValueError" not in err
    assert main(["sync", "status", "--vault", str(path)]) == 0
    assert "not set up" in capsys.readouterr().out


def test_setup_checks_the_credentials_against_the_server(tmp_path: Path, clock: FixedClock, dav: DavServer) -> None:
    vault = make_vault(tmp_path / "vault.sqlite", clock)
    url = dav.folder(fresh_folder())
    try:
        with pytest.raises(RemoteAuthFailed) as caught:
            vault.sync_setup(url, user=dav.user, password="wrong-password-xyz")
        assert "wrong-password-xyz" not in str(caught.value)
        assert not vault.sync_configured
        shown = vault.sync_setup(url, user=dav.user, password=dav.password)
        assert vault.sync_configured and dav.password not in shown
        assert dav.password.encode() not in vault.path.read_bytes()
        assert vault.sync_push().action == "pushed"  # the stored password works
    finally:
        vault.close()


def test_setup_refuses_a_server_that_cannot_be_reached(tmp_path: Path, clock: FixedClock) -> None:
    vault = make_vault(tmp_path / "vault.sqlite", clock)
    try:
        with pytest.raises(RemoteUnreachable):
            vault.sync_setup(f"http://127.0.0.1:{free_port()}/dav/", user="anna", password="pw")
        assert not vault.sync_configured
    finally:
        vault.close()


def test_setup_checks_the_sftp_host_key_and_folder(tmp_path: Path, clock: FixedClock, sshd: SshServer) -> None:
    vault = make_vault(tmp_path / "vault.sqlite", clock)
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    try:
        with pytest.raises(HostKeyUnknown):
            vault.sync_setup(sshd.url(fresh_folder()), user=sshd.user, identity=str(sshd.identity),
                             known_hosts=str(empty))  # fmt: skip
        with pytest.raises(RemoteRefused):  # the folder does not exist
            vault.sync_setup(sshd.url(fresh_folder()), user=sshd.user, identity=str(sshd.identity),
                             known_hosts=str(sshd.known_hosts))  # fmt: skip
        assert not vault.sync_configured
        folder = fresh_folder()
        (sshd.root / folder).mkdir()
        vault.sync_setup(sshd.url(folder), user=sshd.user, identity=str(sshd.identity),
                         known_hosts=str(sshd.known_hosts))  # fmt: skip
        assert vault.sync_configured
    finally:
        vault.close()


# --- empty and foreign remote files ---------------------------------------------------------------


def test_empty_blob_on_sftp_is_refused_as_damaged(sftp_pair: tuple[Pair, Path], tmp_path: Path, sshd: SshServer,
                                                  clock: FixedClock) -> None:  # fmt: skip
    p, folder = sftp_pair
    (folder / BLOB_NAME).write_bytes(b"")
    with pytest.raises(VaultDamaged):
        p.b.sync_pull(p.remote_b)
    target = tmp_path / "machine-c" / "vault.sqlite"
    with pytest.raises(VaultDamaged):
        Vault.clone_from(None, target, PASSPHRASE, remote=sftp_remote(sshd, folder), clock=clock)
    assert not target.exists()


def test_empty_generation_on_webdav_is_refused_as_damaged(dav_pair: tuple[Pair, Path]) -> None:
    p, _folder = dav_pair
    assert isinstance(p.remote_a, WebDav)
    p.remote_a.put(b"", p.remote_a.version())  # a pointer naming an empty generation
    with pytest.raises(VaultDamaged):
        p.b.sync_pull(p.remote_b)


def test_push_over_an_empty_remote_file_is_refused_and_leaves_it(local_pair: Pair, tmp_path: Path) -> None:
    """An empty file is damage to look at, not "no blob yet": never replaced unseen."""
    p = local_pair
    blob = tmp_path / "shared-folder" / BLOB_NAME
    blob.write_bytes(b"")
    p.a.add(draft(name="Not Pushed"))
    with pytest.raises(BlobDamaged):
        p.a.sync_push(p.remote_a)
    p.a.lock()
    with pytest.raises(BlobDamaged):  # also the locked push: not "the remote has newer changes"
        p.a.sync_push(p.remote_a)
    assert blob.read_bytes() == b""


def test_cli_push_over_an_empty_remote_file_exits_4(
    tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "vault.sqlite"
    folder = tmp_path / "shared"
    folder.mkdir()
    make_vault(path, clock).close()
    assert main(["sync", "setup", str(folder), "--vault", str(path)]) == 0
    (folder / BLOB_NAME).write_bytes(b"")
    capsys.readouterr()
    assert main(["sync", "push", "--vault", str(path), "--quiet"]) == 4
    assert "Traceback" not in capsys.readouterr().err


def test_a_folder_where_the_local_blob_should_be_is_a_clear_refusal(local_pair: Pair, tmp_path: Path) -> None:
    p = local_pair
    blob = tmp_path / "shared-folder" / BLOB_NAME
    blob.unlink()
    blob.mkdir()
    with pytest.raises(VaultError):
        p.b.sync_pull(p.remote_b)
    with pytest.raises(VaultError):
        p.a.sync_push(p.remote_a)


# --- stale copies on the target ----------------------------------------------------------------------


def plant(path: Path, *, mtime: float | None = None) -> Path:
    path.write_bytes(os.urandom(256))
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def test_local_push_removes_temp_files_of_pushes_killed_midway(local_pair: Pair, tmp_path: Path) -> None:
    p = local_pair
    folder = tmp_path / "shared-folder"
    left = [plant(folder / f".{BLOB_NAME}.{i:012x}.tmp") for i in range(3)]
    other = plant(folder / "notes.txt")  # not ours: never touched
    p.a.add(draft(name="Next Push"))
    report = p.a.sync_push(p.remote_a)
    assert report.removed == 3
    assert not any(x.exists() for x in left) and other.exists()


def test_sftp_push_removes_abandoned_uploads_and_after_a_purge_every_one(sftp_pair: tuple[Pair, Path]) -> None:
    p, folder = sftp_pair
    old = plant(folder / f".{BLOB_NAME}.0000000000aa.tmp", mtime=HOUR_AGO)
    fresh = plant(folder / f".{BLOB_NAME}.0000000000bb.tmp")  # maybe another device uploading right now
    p.a.add(draft(name="Purged Soon", **EXPIRED))
    p.a.sync_push(p.remote_a)
    assert not old.exists() and fresh.exists()
    assert [r.record_id for r in p.a.purge().purged]
    report = p.a.sync_push(p.remote_a)
    assert not fresh.exists() and report.removed == 1
    assert any("trash" in note for note in report.notes)
    assert sorted(x.name for x in folder.iterdir()) == [BLOB_NAME]


def test_webdav_without_locks_keeps_young_strays_until_a_purge_then_removes_all(
    dav_pair: tuple[Pair, Path], dav: DavServer
) -> None:
    p, folder = dav_pair
    dav.faults.add("LOCK", "405", times=10_000)  # a class-1 server: no locks
    old = plant(folder / "sealbook-00000000000000aa.blob", mtime=HOUR_AGO)
    young = plant(folder / "sealbook-00000000000000bb.blob")
    p.a.add(draft(name="Purged Soon", **EXPIRED))
    report = p.a.sync_push(p.remote_a)
    assert not old.exists() and young.exists()  # young: possibly another device's upload in progress
    assert report.removed == 2 and report.notes == ()  # the previous generation and the old stray
    assert [r.record_id for r in p.a.purge().purged]
    report = p.a.sync_push(p.remote_a)
    assert not young.exists()
    assert any("trash" in note for note in report.notes)
    blobs = [x.name for x in folder.iterdir() if x.name.endswith(".blob")]
    assert len(blobs) == 1 and (folder / POINTER).exists()
    p.b.sync_pull(p.remote_b)
    assert "Purged Soon" not in names(p.b)

"""SFTP through OpenSSH sshd on a random 127.0.0.1 port (temp host key, authorized key)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import draft
from tests.sync.conftest import Pair, fresh_folder
from tests.sync.servers import SshServer
from vault.sync.errors import HostKeyMismatch, HostKeyUnknown, RemoteChanged
from vault.sync.remote import Remote
from vault.sync.sftp import Sftp


def sftp_remote(server: SshServer, folder: Path, known_hosts: Path | None = None) -> Sftp:
    return Sftp(
        server.host,
        str(folder),
        port=server.port,
        user=server.user,
        identity=str(server.identity),
        known_hosts=known_hosts or server.known_hosts,
        timeout=10,
    )


@pytest.fixture
def sftp_folder(sshd: SshServer) -> Path:
    folder = sshd.root / fresh_folder()
    folder.mkdir()
    return folder


@pytest.fixture
def sftp_pair(sshd: SshServer, sftp_folder: Path, pair_factory: Callable[[Callable[[], Remote]], Pair]) -> Pair:
    return pair_factory(lambda: sftp_remote(sshd, sftp_folder))


def names(vault: object) -> list[str]:
    return [c.name for c in vault.contacts()]  # type: ignore[attr-defined]


def test_two_devices_converge_through_openssh_sftp(sftp_pair: Pair, sftp_folder: Path) -> None:
    p = sftp_pair
    p.a.add(draft(name="Anna Sftp"))
    p.a.sync_push(p.remote_a)
    p.b.add(draft(name="Bert Sftp"))
    p.b.sync_push(p.remote_b)
    p.a.sync_pull(p.remote_a)
    assert names(p.a) == names(p.b) == ["Anna Sftp", "Bert Sftp"]
    assert [x.name for x in sftp_folder.iterdir()] == ["sealbook.blob"]  # no temp files left


def test_stale_sftp_writer_is_refused(sftp_pair: Pair) -> None:
    p = sftp_pair
    assert isinstance(p.remote_a, Sftp)
    stale = p.remote_a.version()
    p.b.add(draft(name="B Was First"))
    p.b.sync_push(p.remote_b)
    with pytest.raises(RemoteChanged):
        p.remote_a.put(b"stale", stale)
    p.a.sync_pull(p.remote_a)
    assert "B Was First" in names(p.a)


def test_unknown_host_key_is_refused_with_its_fingerprint(sshd: SshServer, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(HostKeyUnknown) as caught:
        sftp_remote(sshd, sshd.root, known_hosts=empty)
    assert "SHA256:" in str(caught.value)
    assert empty.read_text() == ""  # never added silently


def test_changed_host_key_is_refused(sshd: SshServer, tmp_path: Path) -> None:
    import paramiko

    other = paramiko.Ed25519Key.from_private_key_file(str(sshd.identity))  # any other ed25519 key
    wrong = tmp_path / "known_hosts"
    wrong.write_text(f"[127.0.0.1]:{sshd.port} ssh-ed25519 {other.get_base64()}\n")
    with pytest.raises(HostKeyMismatch):
        sftp_remote(sshd, sshd.root, known_hosts=wrong)


class _CutHere(Exception):
    pass


def test_upload_cut_off_midway_leaves_the_previous_sftp_blob(sftp_pair: Pair, sftp_folder: Path) -> None:
    p = sftp_pair
    for i in range(200):
        p.a.add(draft(name=f"Bulk {i}", notes="z" * 200))
    p.a.sync_push(p.remote_a)
    before = (sftp_folder / "sealbook.blob").read_bytes()
    p.a.add(draft(name="Never Uploaded"))

    def die_half_way(stage: str, done: int, total: int) -> None:
        if stage == "upload" and total and done >= total // 2:
            raise _CutHere

    with pytest.raises(_CutHere):
        p.a.sync_push(p.remote_a, progress=die_half_way)
    assert (sftp_folder / "sealbook.blob").read_bytes() == before
    p.b.sync_pull(p.remote_b)
    assert "Never Uploaded" not in names(p.b)

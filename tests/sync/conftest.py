"""Sync fixtures: private config/data folders, two-device vault pairs, real servers."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSPHRASE, WEAK_KDF, FixedClock, draft
from tests.sync import servers
from vault.sealing import RecordSealer
from vault.service import Vault
from vault.sync.local import LocalFolder
from vault.sync.remote import Remote


@pytest.fixture(autouse=True)
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings, state and credentials under tmp_path; no OS keyring."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("SEALBOOK_NO_KEYRING", "1")


@dataclass
class Pair:
    """Two devices of one vault, each with its own folder and its own handle on the remote."""

    a: Vault
    b: Vault
    remote_a: Remote
    remote_b: Remote
    clock: FixedClock


def make_vault(path: Path, clock: FixedClock) -> Vault:
    return Vault.create(path, PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True, clock=clock)


@pytest.fixture
def pair_factory(tmp_path: Path, clock: FixedClock) -> Iterator[Callable[[Callable[[], Remote]], Pair]]:
    opened: list[Vault] = []
    remotes: list[Remote] = []

    def build(new_remote: Callable[[], Remote]) -> Pair:
        (tmp_path / "machine-a").mkdir()
        (tmp_path / "machine-b").mkdir()
        a = make_vault(tmp_path / "machine-a" / "vault.sqlite", clock)
        opened.append(a)
        remote_a, remote_b = new_remote(), new_remote()
        remotes.extend([remote_a, remote_b])
        a.sync_push(remote_a)
        b, _report = Vault.clone_from(
            None, tmp_path / "machine-b" / "vault.sqlite", PASSPHRASE, remote=remote_b, clock=clock
        )
        opened.append(b)
        return Pair(a, b, remote_a, remote_b, clock)

    yield build
    for vault in opened:
        vault.close()
    for remote in remotes:
        remote.close()


@pytest.fixture
def local_pair(tmp_path: Path, pair_factory: Callable[[Callable[[], Remote]], Pair]) -> Pair:
    folder = tmp_path / "shared-folder"
    folder.mkdir()
    return pair_factory(lambda: LocalFolder(folder))


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The ids of every row the record sealer opens (decrypts and checks) from now on."""
    seen: list[str] = []
    original: Callable[..., Any] = RecordSealer.open

    def spy(self: RecordSealer, row: Any) -> Any:
        seen.append(row.id)
        return original(self, row)

    monkeypatch.setattr(RecordSealer, "open", spy)
    yield seen


@pytest.fixture(scope="session")
def wsgidav(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.DavServer]:
    with servers.run_wsgidav(tmp_path_factory.mktemp("wsgidav")) as server:
        yield server


@pytest.fixture
def dav(wsgidav: servers.DavServer) -> Iterator[servers.DavServer]:
    wsgidav.faults.clear()
    yield wsgidav
    wsgidav.faults.clear()


@pytest.fixture(scope="session")
def apache() -> Iterator[servers.DavServer]:
    if not Path(servers.APACHE).exists():
        pytest.skip("Apache httpd is not installed (/usr/sbin/apache2); .ci/run installs it via apt")
    with servers.run_apache() as server:
        yield server


@pytest.fixture(scope="session")
def sshd() -> Iterator[servers.SshServer]:
    if not Path("/usr/sbin/sshd").exists():
        pytest.skip("OpenSSH sshd is not installed (/usr/sbin/sshd); .ci/run installs openssh-server via apt")
    with servers.run_sshd() as server:
        yield server


def fresh_folder() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def later(clock: FixedClock, seconds: int = 60) -> None:
    """Move the injected clock on (updated timestamps must differ)."""
    clock.moment = datetime.fromtimestamp(clock.moment.timestamp() + seconds, UTC)


def two_devices(tmp_path: Path, clock: FixedClock, **fields: object) -> tuple[Vault, Vault, str, Path]:
    """Device A with one record pushed to a shared local folder, and device B cloned from it."""
    folder = tmp_path / "shared-folder"
    folder.mkdir()
    a = Vault.create(tmp_path / "machine-a" / "vault.sqlite", PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True,
                     clock=clock)  # fmt: skip
    record = a.add(draft(name="Shared Person", **fields))
    later(clock)
    a.sync_push(LocalFolder(folder))
    b, _report = Vault.clone_from(
        None, tmp_path / "machine-b" / "vault.sqlite", PASSPHRASE, remote=LocalFolder(folder), clock=clock
    )
    return a, b, record.id, folder

"""Per-device state and credentials: private files, refused when too open."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.sync.conftest import Pair
from vault.errors import InvalidInput
from vault.sync.errors import CredentialsTooOpen, RollbackRefused, SyncNotConfigured
from vault.sync.settings import Secrets, normalise_url
from vault.sync.state import SyncState


def test_state_file_is_0600_outside_the_vault_and_holds_the_high_water_mark(local_pair: Pair) -> None:
    from vault.sync.state import StateFile

    path = StateFile(local_pair.a.vault_id, local_pair.a.device_id).path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.parent != local_pair.a.path.parent
    assert '"counter": 1' in path.read_text()


def test_lost_state_file_still_refuses_a_rollback_via_the_vault_copy(local_pair: Pair, tmp_path: Path) -> None:
    from tests.conftest import draft
    from vault.sync.state import StateFile

    blob = tmp_path / "shared-folder" / "sealbook.blob"
    old = blob.read_bytes()
    local_pair.a.add(draft(name="Newer"))
    local_pair.a.sync_push(local_pair.remote_a)
    local_pair.b.sync_pull(local_pair.remote_b)
    StateFile(local_pair.b.vault_id, local_pair.b.device_id).path.unlink()
    blob.write_bytes(old)
    with pytest.raises(RollbackRefused):
        local_pair.b.sync_pull(local_pair.remote_b)


def test_password_goes_to_a_0600_file_when_no_keyring_exists(tmp_path: Path) -> None:
    secrets = Secrets(tmp_path / "cfg")
    assert secrets.store("webdav:owner@host:", "app-pass") == "file"
    assert stat.S_IMODE(secrets.file.stat().st_mode) == 0o600
    assert secrets.load("webdav:owner@host:", "file") == "app-pass"


def test_credentials_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    secrets = Secrets(tmp_path / "cfg")
    secrets.store("k", "v")
    os.chmod(secrets.file, 0o644)
    with pytest.raises(CredentialsTooOpen):
        secrets.load("k", "file")


def test_setup_stores_target_and_password_never_in_the_vault(local_pair: Pair, tmp_path: Path) -> None:
    # Setup now checks the target at once, so the target must exist (the WebDAV
    # variant against a real server is in test_sync_hygiene.py).
    target = tmp_path / "target"
    target.mkdir()
    shown = local_pair.a.sync_setup(str(target), user="owner", password="super-secret-app-password")
    assert "super-secret" not in shown
    assert local_pair.a.sync_configured
    assert b"super-secret-app-password" not in local_pair.a.path.read_bytes()


def test_status_without_setup_says_not_configured(local_pair: Pair) -> None:
    status = local_pair.b.sync_status()
    assert not status.configured and status.counter == 1
    with pytest.raises(SyncNotConfigured):
        local_pair.b.sync_push()


def test_urls_are_normalised_and_passwords_in_urls_refused() -> None:
    assert (
        normalise_url("nextcloud://cloud.example/Backups", "anna")
        == "https://cloud.example/remote.php/dav/files/anna/Backups/"
    )
    assert normalise_url("https://dav.example/x").endswith("/x/")
    with pytest.raises(InvalidInput):
        normalise_url("https://anna:pw@dav.example/x")


def test_plain_http_to_a_remote_host_is_refused() -> None:
    from vault.sync.webdav import WebDav

    with pytest.raises(InvalidInput):
        WebDav("http://dav.example/x/", "u", "p")


def test_state_defaults_are_empty() -> None:
    assert SyncState().counter == 0

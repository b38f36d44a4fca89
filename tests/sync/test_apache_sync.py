"""WebDAV through Apache httpd + mod_dav started on 127.0.0.1 from a temp ServerRoot."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import draft
from tests.sync.conftest import Pair, fresh_folder
from tests.sync.servers import DavServer
from vault.sync.errors import RemoteAuthFailed, RemoteChanged
from vault.sync.remote import Remote
from vault.sync.webdav import WebDav

FAST = (0.01, 0.01, 0.01)


def apache_remote(server: DavServer, folder: str, password: str | None = None) -> WebDav:
    return WebDav(server.folder(folder), server.user, password or server.password, backoff=FAST, timeout=10)


@pytest.fixture
def apache_pair(apache: DavServer, pair_factory: Callable[[Callable[[], Remote]], Pair]) -> Pair:
    folder = f"nested/{fresh_folder()}"  # the folder and its parent are created with MKCOL
    return pair_factory(lambda: apache_remote(apache, folder))


def names(vault: object) -> list[str]:
    return [c.name for c in vault.contacts()]  # type: ignore[attr-defined]


def test_two_devices_converge_through_apache_mod_dav(apache_pair: Pair) -> None:
    p = apache_pair
    p.a.add(draft(name="Anna Apache"))
    p.a.sync_push(p.remote_a)
    p.b.add(draft(name="Bert Apache"))
    p.b.sync_push(p.remote_b)
    p.a.sync_pull(p.remote_a)
    assert names(p.a) == names(p.b) == ["Anna Apache", "Bert Apache"]


def test_apache_refuses_a_stale_if_match(apache_pair: Pair) -> None:
    p = apache_pair
    assert isinstance(p.remote_a, WebDav)
    stale = p.remote_a.version()
    p.b.add(draft(name="Moved On"))
    p.b.sync_push(p.remote_b)
    with pytest.raises(RemoteChanged):
        p.remote_a.put(b"stale", stale)
    p.a.sync_pull(p.remote_a)
    assert "Moved On" in names(p.a)


def test_apache_wrong_password_says_check_credentials(apache: DavServer) -> None:
    remote = apache_remote(apache, fresh_folder(), password="not-the-password")
    with pytest.raises(RemoteAuthFailed):
        remote.version()
    remote.close()


class _CutHere(Exception):
    pass


def test_client_dying_mid_upload_to_apache_leaves_the_previous_blob(apache_pair: Pair) -> None:
    p = apache_pair
    for i in range(300):
        p.a.add(draft(name=f"Bulk {i}", notes="y" * 200))
    p.a.sync_push(p.remote_a)
    assert isinstance(p.remote_a, WebDav)
    before = p.remote_a.version()
    p.a.add(draft(name="Never Uploaded"))

    def die_half_way(stage: str, done: int, total: int) -> None:
        if stage == "upload" and total and done >= total // 2:
            raise _CutHere

    with pytest.raises(_CutHere):
        p.a.sync_push(p.remote_a, progress=die_half_way)
    assert p.remote_a.version() == before
    p.b.sync_pull(p.remote_b)
    assert "Never Uploaded" not in names(p.b) and "Bulk 299" in names(p.b)

"""WebDAV through a real wsgidav server on 127.0.0.1, with injected faults."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.conftest import draft
from tests.sync.conftest import Pair, fresh_folder
from tests.sync.servers import DavServer
from vault.sync.errors import (
    RemoteAuthFailed,
    RemoteStorageFull,
    RemoteUnavailable,
)
from vault.sync.remote import Remote
from vault.sync.webdav import POINTER, WebDav

FAST = (0.01, 0.01, 0.01)


def dav_remote(server: DavServer, folder: str, password: str | None = None) -> WebDav:
    return WebDav(server.folder(folder), server.user, password or server.password, backoff=FAST, timeout=10)


@pytest.fixture
def dav_pair(dav: DavServer, pair_factory: Callable[[Callable[[], Remote]], Pair]) -> Pair:
    folder = fresh_folder()
    return pair_factory(lambda: dav_remote(dav, folder))


def names(vault: object) -> list[str]:
    return [c.name for c in vault.contacts()]  # type: ignore[attr-defined]


def pointer_bytes(server: DavServer, pair: Pair) -> bytes:
    remote = pair.remote_a
    assert isinstance(remote, WebDav)
    return httpx.get(remote.folder + POINTER, auth=(server.user, server.password)).content


def test_two_devices_converge_through_wsgidav(dav_pair: Pair) -> None:
    p = dav_pair
    p.a.add(draft(name="Anna Dav"))
    p.a.sync_push(p.remote_a)
    p.b.add(draft(name="Bert Dav"))
    p.b.sync_push(p.remote_b)
    p.a.sync_pull(p.remote_a)
    assert names(p.a) == names(p.b) == ["Anna Dav", "Bert Dav"]


def test_old_generations_are_deleted_after_the_pointer_moves(dav_pair: Pair, dav: DavServer) -> None:
    p = dav_pair
    for i in range(3):
        p.a.add(draft(name=f"Gen {i}"))
        p.a.sync_push(p.remote_a)
    assert isinstance(p.remote_a, WebDav)
    folder = dav.root / p.remote_a.folder.rstrip("/").rsplit("/", 1)[1]
    blobs = sorted(x.name for x in folder.iterdir() if x.name.endswith(".blob"))
    assert len(blobs) == 1


def test_412_on_the_pointer_pulls_merges_and_retries(dav_pair: Pair, dav: DavServer) -> None:
    p = dav_pair
    p.a.add(draft(name="Retry Me"))
    dav.faults.add("PUT", "412", match=POINTER)
    report = p.a.sync_push(p.remote_a)
    assert report.action == "pushed"
    assert ("PUT", "412") in [(m, str(code)) for m, _path, code in dav.faults.seen]
    p.b.sync_pull(p.remote_b)
    assert "Retry Me" in names(p.b)


def test_a_real_race_412_lets_the_other_push_win_then_merges(dav_pair: Pair) -> None:
    p = dav_pair
    p.a.add(draft(name="From A"))
    p.b.add(draft(name="From B"))
    p.b.sync_push(p.remote_b)
    report = p.a.sync_push(p.remote_a)  # A's last seen ETag is stale: pull, merge, push
    assert report.pulled_first
    p.b.sync_pull(p.remote_b)
    assert names(p.a) == names(p.b) == ["From A", "From B"]


def test_server_ignoring_if_match_still_cannot_let_a_stale_device_overwrite(dav_pair: Pair, dav: DavServer) -> None:
    p = dav_pair
    assert isinstance(p.remote_a, WebDav)
    stale_tag = p.remote_a.version()
    p.b.add(draft(name="B Wins"))
    p.b.sync_push(p.remote_b)
    dav.faults.add("PUT", "ignore-conditions", times=10)
    with pytest.raises(Exception) as caught:
        p.remote_a.put(b"stale device blob", stale_tag)
    assert type(caught.value).__name__ == "RemoteChanged"
    p.a.sync_pull(p.remote_a)
    assert "B Wins" in names(p.a)


def test_423_and_500_back_off_then_succeed(dav_pair: Pair, dav: DavServer) -> None:
    p = dav_pair
    p.a.add(draft(name="Back Off"))
    dav.faults.add("PUT", "423", match=".blob")
    dav.faults.add("PUT", "500", match=POINTER)
    assert p.a.sync_push(p.remote_a).action == "pushed"
    p.b.sync_pull(p.remote_b)
    assert "Back Off" in names(p.b)


def test_persistent_500_fails_cleanly_and_keeps_the_previous_blob(dav_pair: Pair, dav: DavServer) -> None:
    p = dav_pair
    before = pointer_bytes(dav, p)
    counter = p.a.sync_status().counter
    p.a.add(draft(name="Lost In Transit"))
    dav.faults.add("PUT", "500", times=100)
    with pytest.raises(RemoteUnavailable):
        p.a.sync_push(p.remote_a)
    dav.faults.clear()
    assert pointer_bytes(dav, p) == before
    assert p.a.sync_status().counter == counter
    assert p.b.sync_pull(p.remote_b).action in ("up-to-date", "pulled")


def test_507_says_storage_full(dav_pair: Pair, dav: DavServer) -> None:
    p = dav_pair
    before = pointer_bytes(dav, p)
    p.a.add(draft(name="No Room"))
    dav.faults.add("PUT", "507", match=".blob")
    with pytest.raises(RemoteStorageFull) as caught:
        p.a.sync_push(p.remote_a)
    assert "storage is full" in str(caught.value)
    assert pointer_bytes(dav, p) == before


def test_401_says_check_credentials_without_leaking_the_password(dav: DavServer) -> None:
    remote = dav_remote(dav, fresh_folder(), password="wrong-password-xyz")
    with pytest.raises(RemoteAuthFailed) as caught:
        remote.version()
    remote.close()
    assert "check the user name and app password" in str(caught.value)
    assert "wrong-password-xyz" not in str(caught.value)


def test_injected_401_on_upload(dav_pair: Pair, dav: DavServer) -> None:
    p = dav_pair
    p.a.add(draft(name="Auth Fails"))
    dav.faults.add("PUT", "401")
    with pytest.raises(RemoteAuthFailed):
        p.a.sync_push(p.remote_a)


def test_upload_cut_off_midway_leaves_the_previous_blob(dav_pair: Pair, dav: DavServer) -> None:
    p = dav_pair
    p.a.add(draft(name="Before Cut"))
    p.a.sync_push(p.remote_a)
    before = pointer_bytes(dav, p)
    p.a.add(draft(name="After Cut"))
    dav.faults.add("PUT", "cut", match=".blob", times=100)  # the server wrote half, then the line dropped
    with pytest.raises(RemoteUnavailable):
        p.a.sync_push(p.remote_a)
    dav.faults.clear()
    assert pointer_bytes(dav, p) == before
    p.b.sync_pull(p.remote_b)
    assert "Before Cut" in names(p.b) and "After Cut" not in names(p.b)
    assert p.a.sync_push(p.remote_a).action == "pushed"  # retried later, it lands


class _CutHere(Exception):
    pass


def test_client_dying_mid_upload_leaves_the_previous_blob(dav_pair: Pair, dav: DavServer) -> None:
    p = dav_pair
    for i in range(300):
        p.a.add(draft(name=f"Bulk {i}", notes="x" * 200))
    p.a.sync_push(p.remote_a)
    before = pointer_bytes(dav, p)
    p.a.add(draft(name="Never Uploaded"))

    def die_half_way(stage: str, done: int, total: int) -> None:
        if stage == "upload" and total and done >= total // 2:
            raise _CutHere

    with pytest.raises(_CutHere):
        p.a.sync_push(p.remote_a, progress=die_half_way)
    assert pointer_bytes(dav, p) == before
    p.b.sync_pull(p.remote_b)
    assert "Never Uploaded" not in names(p.b) and "Bulk 299" in names(p.b)


def test_gzip_suffix_added_by_apache_deflate_is_removed_from_etags() -> None:
    from vault.sync.webdav import _clean_etag

    assert _clean_etag('"abc-gzip"') == '"abc"'
    assert _clean_etag('"abc"') == '"abc"'
    assert _clean_etag(None) is None


def test_delete_is_conditional_and_removes_pointer_and_generation(dav: DavServer) -> None:
    from vault.sync.errors import RemoteChanged

    remote = dav_remote(dav, fresh_folder())
    tag = remote.put(b"first blob", None)
    with pytest.raises(RemoteChanged):
        remote.delete("stale-tag")
    remote.delete(tag)
    assert remote.version() is None
    assert remote.fetch() is None
    remote.close()

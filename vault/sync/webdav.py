"""WebDAV target (Nextcloud, ownCloud, Apache mod_dav, any RFC 4918 server) over httpx.

Layout in the target folder: ``sealbook-<random>.blob`` generation files and a
small ``sealbook.pointer`` naming the current one.  A push uploads a *new*
generation (``If-None-Match: *``), reads it back and compares the hash, then
moves the pointer with ``If-Match`` on the ETag last seen (``If-None-Match: *``
for the first push), reads the pointer back, and only then deletes the old
generation.  An upload cut off midway therefore never touches the blob other
devices read (some servers, e.g. wsgidav, truncate the target of a failed PUT;
Nextcloud issue 62321 lost a password database that way).

Some servers ignore conditional headers, so the pointer's version is also
re-checked just before it is written and read back after: a stale device never
silently replaces another device's push.  Only one validator is sent; a
Nextcloud ``OC-ETag`` is preferred and a ``-gzip`` suffix added by Apache's
mod_deflate is removed.  423 and 5xx back off (bounded); 507 is "storage
full", 401 "check credentials".  Passwords never appear in messages.
"""

from __future__ import annotations

import json
import random
import re
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from vault import crypto
from vault.errors import InvalidInput
from vault.sync.blob import Progress
from vault.sync.errors import (
    BlobDamaged,
    RemoteAuthFailed,
    RemoteChanged,
    RemoteRefused,
    RemoteStorageFull,
    RemoteUnavailable,
    RemoteUnreachable,
    RemoteVerifyFailed,
)
from vault.sync.remote import Fetched

if TYPE_CHECKING:
    import httpx

# httpx is imported when a WebDav target is opened, not with this module:
# httpx's package __init__ pulls in rich (for its CLI) when rich is installed,
# and importing vault must load no UI library (tests/test_architecture.py).

POINTER = "sealbook.pointer"
_GENERATION = re.compile(r"^sealbook-[0-9a-f]{16}\.blob$")
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
DEFAULT_BACKOFF = (0.5, 1.0, 2.0, 4.0)


@dataclass(frozen=True)
class _Pointer:
    tag: str
    raw: bytes
    blob: str
    size: int
    hash: str
    strong_etag: str | None


def _clean_etag(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    if value.endswith('-gzip"'):
        value = value[: -len('-gzip"')] + '"'
    return value


class WebDav:
    def __init__(
        self,
        folder_url: str,
        user: str = "",
        password: str | None = None,
        *,
        backoff: Sequence[float] = DEFAULT_BACKOFF,
        timeout: float = 60.0,
        verify: bool | str = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urlsplit(folder_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInput("url", "a WebDAV target needs an https:// folder URL")
        if parts.scheme == "http" and parts.hostname not in _LOCAL_HOSTS:
            raise InvalidInput("url", "refusing to send credentials over plain http; use https://")
        self.folder = folder_url if folder_url.endswith("/") else folder_url + "/"
        self._host = parts.hostname
        self._backoff = tuple(backoff)
        self._sleep = sleep
        import httpx

        self._transport_error = httpx.TransportError
        auth = httpx.BasicAuth(user, password or "") if user else None
        self._client = httpx.Client(
            auth=auth,
            timeout=timeout,
            verify=verify,
            follow_redirects=False,
            # identity: no gzip, so the ETag is the server's own (no "-gzip" rewrite).
            headers={"Accept-Encoding": "identity", "User-Agent": "sealbook-sync/1"},
        )

    def describe(self) -> str:
        parts = urlsplit(self.folder)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"

    def close(self) -> None:
        self._client.close()

    def _url(self, name: str) -> str:
        return urljoin(self.folder, name)

    # --- transport with bounded back-off ------------------------------------------

    def _request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        progress: Progress | None = None,
        stream_to: Callable[[httpx.Response], bytes] | None = None,
    ) -> tuple[httpx.Response, bytes]:
        last = ""
        for attempt in range(len(self._backoff) + 1):
            if attempt:
                delay = self._backoff[attempt - 1]
                self._sleep(delay * (1 + random.random() * 0.2))  # noqa: S311 - jitter, not crypto
            request_headers = dict(headers or {})
            content: Any = None
            if body is not None:
                request_headers["Content-Length"] = str(len(body))
                content = _pieces(body, progress)
            try:
                with self._client.stream(method, url, headers=request_headers, content=content) as response:
                    code = response.status_code
                    if code == 401:
                        raise RemoteAuthFailed(self._host)
                    if code == 403:
                        raise RemoteRefused(f"{self._host}: HTTP 403")
                    if code == 507:
                        raise RemoteStorageFull(self._host)
                    if code == 423 or code >= 500:
                        last = f"HTTP {code}"
                        continue
                    success = stream_to is not None and 200 <= code < 300
                    data = stream_to(response) if success and stream_to else response.read()
                    return response, data
            except self._transport_error as exc:
                last = type(exc).__name__
                continue
        if last.startswith("HTTP"):
            raise RemoteUnavailable(f"{self._host}: {last}")
        raise RemoteUnreachable(f"{self._host}: {last}")

    # --- reading --------------------------------------------------------------------

    def _pointer(self) -> _Pointer | None:
        response, raw = self._request("GET", self._url(POINTER))
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise RemoteRefused(f"{self._host}: HTTP {response.status_code}")
        etag = _clean_etag(response.headers.get("OC-ETag") or response.headers.get("ETag"))
        strong = etag if etag and not etag.startswith("W/") else None
        try:
            d = json.loads(raw.decode("ascii"))
            blob, size, digest = d["blob"], d["size"], d["hash"]
            if d.get("v") != 1 or not isinstance(blob, str) or not _GENERATION.match(blob):
                raise ValueError
            if type(size) is not int or not isinstance(digest, str) or len(digest) != 64:
                raise ValueError
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise BlobDamaged("remote pointer") from None
        # Some servers' ETags are mtime(seconds)+size (wsgidav): two pointers written
        # in one second collide.  The tag therefore also carries the content hash;
        # the pointer names a random generation, so its content never repeats.
        tag = f"{etag or ''}#{crypto.digest(raw).hex()}"
        return _Pointer(tag, raw, blob, size, digest, strong)

    def version(self) -> str | None:
        pointer = self._pointer()
        return pointer.tag if pointer else None

    def _get(self, name: str, progress: Progress | None = None, expected_size: int = 0) -> bytes | None:
        def collect(response: httpx.Response) -> bytes:
            total = int(response.headers.get("Content-Length") or expected_size or 0)
            out = bytearray()
            for piece in response.iter_bytes(256 * 1024):
                out += piece
                if expected_size and len(out) > expected_size:
                    raise BlobDamaged("remote copy")  # longer than the pointer says: stop reading
                if progress:
                    progress("download", len(out), max(total, len(out)))
            return bytes(out)

        response, data = self._request("GET", self._url(name), stream_to=collect)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise RemoteRefused(f"{self._host}: HTTP {response.status_code}")
        return data

    def fetch(self, progress: Progress | None = None) -> Fetched | None:
        for attempt in range(2):
            pointer = self._pointer()
            if pointer is None:
                return None
            data = self._get(pointer.blob, progress, pointer.size)
            if data is not None and len(data) == pointer.size and crypto.digest(data).hex() == pointer.hash:
                return Fetched(data, pointer.tag)
            if attempt == 0:
                continue  # the pointer may have moved between the two requests
        raise BlobDamaged("remote copy")

    # --- writing --------------------------------------------------------------------

    def _mkcol(self) -> None:
        """Create the target folder (and missing parents, bounded by the path depth)."""
        parts = urlsplit(self.folder)
        segments = [s for s in parts.path.split("/") if s]
        for depth in range(len(segments), 0, -1):
            url = f"{parts.scheme}://{parts.netloc}/" + "/".join(segments[:depth]) + "/"
            response, _ = self._request("MKCOL", url)
            if response.status_code in (201, 405):  # created, or exists already
                for deeper in range(depth + 1, len(segments) + 1):
                    url = f"{parts.scheme}://{parts.netloc}/" + "/".join(segments[:deeper]) + "/"
                    self._request("MKCOL", url)
                return
            if response.status_code != 409:  # 409: a parent is missing; go up one level
                break
        raise RemoteRefused(f"{self._host}: cannot create the target folder")

    def _delete_quietly(self, name: str) -> None:
        try:
            self._request("DELETE", self._url(name))
        except Exception:  # best effort: a left-over generation is harmless
            return

    def _check(self, expected: str | None) -> _Pointer | None:
        current = self._pointer()
        if (current.tag if current else None) != expected:
            raise RemoteChanged(self._host)
        return current

    def put(self, data: bytes, expected: str | None, progress: Progress | None = None) -> str:
        current = self._check(expected)
        name = ""
        for attempt in range(3):
            # A fresh name per attempt: a retried PUT whose first try landed gets 412.
            name = f"sealbook-{secrets.token_hex(8)}.blob"
            response, _ = self._request(
                "PUT", self._url(name), headers={"If-None-Match": "*"}, body=data, progress=progress
            )
            if response.status_code in (404, 409) and attempt == 0:  # the folder is missing
                self._mkcol()
                continue
            if response.status_code != 412:
                break
        if not 200 <= response.status_code < 300:
            raise RemoteRefused(f"{self._host}: HTTP {response.status_code}")
        try:
            landed = self._get(name)
            if landed is None or crypto.digest(landed) != crypto.digest(data):
                raise RemoteVerifyFailed(self._host)
            pointer = json.dumps(
                {"v": 1, "blob": name, "size": len(data), "hash": crypto.digest(data).hex()},
                sort_keys=True,
                separators=(",", ":"),
            ).encode("ascii")
            if current is None:
                condition = {"If-None-Match": "*"}
            elif current.strong_etag:
                condition = {"If-Match": current.strong_etag}
            else:
                condition = {}
            self._check(expected)  # some servers ignore If-Match: look again right before writing
            response, _ = self._request("PUT", self._url(POINTER), headers=condition, body=pointer)
            if response.status_code == 412:
                raise RemoteChanged(self._host)
            if not 200 <= response.status_code < 300:
                raise RemoteRefused(f"{self._host}: HTTP {response.status_code}")
        except BaseException:
            self._delete_quietly(name)
            raise
        after = self._pointer()
        if after is None or after.raw != pointer:
            raise RemoteChanged(self._host)  # another device's pointer won; ours is not counted
        if current is not None and current.blob != name:
            self._delete_quietly(current.blob)
        return after.tag

    def delete(self, expected: str | None) -> None:
        current = self._check(expected)
        if current is None:
            return
        headers = {"If-Match": current.strong_etag} if current.strong_etag else {}
        response, _ = self._request("DELETE", self._url(POINTER), headers=headers)
        if response.status_code == 412:
            raise RemoteChanged(self._host)
        self._delete_quietly(current.blob)


def _pieces(data: bytes, progress: Progress | None) -> Iterator[bytes]:
    view = memoryview(data)
    step = 256 * 1024
    if progress:
        progress("upload", 0, len(view))
    for start in range(0, len(view), step):
        yield bytes(view[start : start + step])
        if progress:
            progress("upload", min(start + step, len(view)), len(view))

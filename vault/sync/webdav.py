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

Where the server offers WebDAV locks, the pointer is LOCKed (exclusive, 60 s)
from that last look to the clean-up: the server then refuses every other
write to the pointer, even one whose If-Match it would ignore, and two
devices never both move it.  Without locks the race stays as narrow as the
re-check makes it; if two devices still both write the same version, the
engine merges the fork on the next pull (both blobs authenticate).

Clean-up after the pointer moved: the previous generation goes, and so do
generation files no pointer names (uploads of pushes cut off midway).  Under
the lock every such file goes; without one, only those the server last
modified more than ``STRAY_GRACE`` ago (another device may be uploading one
right now), except after a purge (``forget``): then every file that may hold
the purged records goes.  A device whose generation vanished before its
pointer names it uploads it again.  Deleted files may stay in the server's
trash bin and versions (Nextcloud) until those expire.
"""

from __future__ import annotations

import json
import random
import re
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit
from xml.etree import ElementTree

from vault import crypto
from vault.errors import InvalidInput
from vault.i18n import _
from vault.sync.blob import Progress
from vault.sync.errors import (
    BlobDamaged,
    RemoteAuthFailed,
    RemoteChanged,
    RemoteLocked,
    RemoteRefused,
    RemoteStorageFull,
    RemoteUnavailable,
    RemoteUnreachable,
    RemoteVerifyFailed,
)
from vault.sync.remote import Fetched
from vault.sync.settings import LOCAL_HOSTS

if TYPE_CHECKING:
    import httpx

# httpx is imported when a WebDav target is opened, not with this module:
# httpx's package __init__ pulls in rich (for its CLI) when rich is installed,
# and importing vault must load no UI library (tests/test_architecture.py).

POINTER = "sealbook.pointer"
_GENERATION = re.compile(r"^sealbook-[0-9a-f]{16}\.blob$")
DEFAULT_BACKOFF = (0.5, 1.0, 2.0, 4.0)
STRAY_GRACE = timedelta(minutes=15)
MAX_LISTING_BYTES = 4 * 1024 * 1024
_LOCKINFO = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>'
    b"<D:locktype><D:write/></D:locktype><D:owner>sealbook</D:owner></D:lockinfo>"
)
_PROPFIND = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<D:propfind xmlns:D="DAV:"><D:prop><D:getlastmodified/>'
    b"<D:resourcetype/></D:prop></D:propfind>"
)
_XML = {"Content-Type": 'application/xml; charset="utf-8"'}
_LOCK_TOKEN = re.compile(r"^<[\x21-\x7e]{1,400}>$")


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
            raise InvalidInput("url", _("a WebDAV target needs an https:// folder URL"))
        if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
            raise InvalidInput("url", _("refusing to send credentials over plain http; use https://"))
        self.folder = folder_url if folder_url.endswith("/") else folder_url + "/"
        self.removed = 0
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
        passthrough: frozenset[int] = frozenset(),
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
                    if code in passthrough:
                        return response, response.read()
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
            raise BlobDamaged(_("remote pointer")) from None
        # Some servers' ETags are mtime(seconds)+size (wsgidav): two pointers written
        # in one second collide.  The tag therefore also carries the content hash;
        # the pointer names a random generation, so its content never repeats.
        tag = f"{etag or ''}#{crypto.digest(raw).hex()}"
        return _Pointer(tag, raw, blob, size, digest, strong)

    def version(self) -> str | None:
        pointer = self._pointer()
        return pointer.tag if pointer else None

    def check(self) -> None:
        """For `sync setup`: the server answers and takes the credentials (the folder
        itself may be missing: the first push creates it)."""
        self.version()

    def _get(self, name: str, progress: Progress | None = None, expected_size: int = 0) -> bytes | None:
        def collect(response: httpx.Response) -> bytes:
            total = int(response.headers.get("Content-Length") or expected_size or 0)
            out = bytearray()
            for piece in response.iter_bytes(256 * 1024):
                out += piece
                if expected_size and len(out) > expected_size:
                    raise BlobDamaged(_("remote copy"))  # longer than the pointer says: stop reading
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
                if not data:
                    raise BlobDamaged(_("remote copy is empty"))
                return Fetched(data, pointer.tag)
            if attempt == 0:
                continue  # the pointer may have moved between the two requests
        raise BlobDamaged(_("remote copy"))

    # --- writing --------------------------------------------------------------------

    def _mkcol(self) -> None:
        """Create the target folder (and missing parents, bounded by the path depth)."""
        parts = urlsplit(self.folder)
        segments = [s for s in parts.path.split("/") if s]
        for depth in range(len(segments), 0, -1):
            url = f"{parts.scheme}://{parts.netloc}/" + "/".join(segments[:depth]) + "/"
            response, _body = self._request("MKCOL", url)
            if response.status_code in (201, 405):  # created, or exists already
                for deeper in range(depth + 1, len(segments) + 1):
                    url = f"{parts.scheme}://{parts.netloc}/" + "/".join(segments[:deeper]) + "/"
                    self._request("MKCOL", url)
                return
            if response.status_code != 409:  # 409: a parent is missing; go up one level
                break
        raise RemoteRefused(_("{host}: cannot create the target folder").format(host=self._host))

    def _delete_quietly(self, name: str) -> bool:
        try:
            response, _body = self._request("DELETE", self._url(name))
        except Exception:  # best effort: a left-over generation goes with a later push
            return False
        return 200 <= response.status_code < 300

    def _check(self, expected: str | None) -> _Pointer | None:
        current = self._pointer()
        if (current.tag if current else None) != expected:
            raise RemoteChanged(self._host)
        return current

    def _upload(self, data: bytes, progress: Progress | None) -> str:
        """A new generation file holding ``data``, read back and compared; returns its name."""
        name = ""
        for attempt in range(3):
            # A fresh name per attempt: a retried PUT whose first try landed gets 412.
            name = f"sealbook-{secrets.token_hex(8)}.blob"
            response, _body = self._request(
                "PUT", self._url(name), headers={"If-None-Match": "*"}, body=data, progress=progress
            )
            if response.status_code in (404, 409) and attempt == 0:  # the folder is missing
                self._mkcol()
                continue
            if response.status_code != 412:
                break
        try:
            if not 200 <= response.status_code < 300:
                raise RemoteRefused(f"{self._host}: HTTP {response.status_code}")
            landed = self._get(name)
            if landed is None or crypto.digest(landed) != crypto.digest(data):
                raise RemoteVerifyFailed(self._host)
        except BaseException:
            self._delete_quietly(name)
            raise
        return name

    def _ensure(self, name: str, data: bytes) -> None:
        """Upload ``name`` again if it vanished (pruned by a device that holds no lock)."""
        response, _body = self._request("HEAD", self._url(name))
        if response.status_code != 404:
            return
        response, _body = self._request("PUT", self._url(name), headers={"If-None-Match": "*"}, body=data)
        landed = self._get(name) if 200 <= response.status_code < 300 else None
        if landed is None or crypto.digest(landed) != crypto.digest(data):
            raise RemoteVerifyFailed(self._host)

    def _lock(self) -> str | None:
        """An exclusive write lock on the pointer; None where the server offers none."""
        delays = (0.0, *self._backoff)
        for delay in delays:
            if delay:
                self._sleep(delay * (1 + random.random() * 0.2))  # noqa: S311 - jitter, not crypto
            response, _body = self._request(
                "LOCK",
                self._url(POINTER),
                headers={**_XML, "Depth": "0", "Timeout": "Second-60"},
                body=_LOCKINFO,
                passthrough=frozenset({403, 423}),
            )
            if response.status_code == 423:
                continue  # another device holds it: its push takes seconds
            token = (response.headers.get("Lock-Token") or "").strip()
            if response.status_code in (200, 201) and _LOCK_TOKEN.match(token):
                return token
            return None  # 405, 501, 403...: no locks here; the re-checks still guard
        raise RemoteLocked(self._host)

    def _unlock(self, token: str) -> None:
        try:
            self._request("UNLOCK", self._url(POINTER), headers={"Lock-Token": token})
        except Exception:  # noqa: S110 - the lock expires by itself (60 s)
            pass

    def put(self, data: bytes, expected: str | None, progress: Progress | None = None, *, forget: bool = False) -> str:
        self.removed = 0
        current = self._check(expected)
        name = self._upload(data, progress)
        pointer = json.dumps(
            {"v": 1, "blob": name, "size": len(data), "hash": crypto.digest(data).hex()},
            sort_keys=True,
            separators=(",", ":"),
        ).encode("ascii")
        token: str | None = None
        attempted = committed = False
        try:
            # A first pointer is not locked: LOCK on a missing file creates an empty one.
            token = self._lock() if current is not None else None
            current = self._check(expected)  # some servers ignore If-Match: look again right before writing
            self._ensure(name, data)
            condition: dict[str, str] = {}
            if current is None:
                condition["If-None-Match"] = "*"
            elif current.strong_etag:
                condition["If-Match"] = current.strong_etag
            if token:
                condition["If"] = f"({token})"
            attempted = True
            response, _body = self._request("PUT", self._url(POINTER), headers=condition, body=pointer)
            if response.status_code in (412, 423):
                raise RemoteChanged(self._host)
            if not 200 <= response.status_code < 300:
                raise RemoteRefused(f"{self._host}: HTTP {response.status_code}")
            after = self._pointer()
            if after is None or after.raw != pointer:
                raise RemoteChanged(self._host)  # another device's pointer won; ours is not counted
            committed = True
            self._ensure(name, data)
            removed = 0
            if current is not None and current.blob != name and self._delete_quietly(current.blob):
                removed += 1
            self.removed = removed + self._remove_strays(name, every=forget or token is not None)
            return after.tag
        except BaseException:
            if not committed and not (attempted and self._names(name)):
                self._delete_quietly(name)  # never a generation a pointer may name
            raise
        finally:
            if token:
                self._unlock(token)

    def _names(self, name: str) -> bool:
        """True if the pointer names ``name`` (or cannot be read: then assume it does)."""
        try:
            pointer = self._pointer()
        except Exception:
            return True
        return pointer is not None and pointer.blob == name

    def _remove_strays(self, keep: str, *, every: bool) -> int:
        """Delete generation files no pointer names; best effort (left-overs go with a later push)."""
        try:
            listing = self._listing()
            pointer = self._pointer()
        except Exception:
            return 0
        if listing is None:
            return 0
        now, entries = listing
        kept = {keep, pointer.blob if pointer else keep}
        removed = 0
        for name, modified in entries:
            if name in kept or not _GENERATION.match(name):
                continue
            if not every and (now is None or modified is None or modified > now - STRAY_GRACE):
                continue  # maybe another device's upload in progress
            if self._delete_quietly(name):
                removed += 1
        return removed

    def _listing(self) -> tuple[datetime | None, list[tuple[str, datetime | None]]] | None:
        """(the server's time, [(file name, last modified)]) of the target folder, or None."""
        response, raw = self._request("PROPFIND", self.folder, headers={**_XML, "Depth": "1"}, body=_PROPFIND)
        if response.status_code != 207 or len(raw) > MAX_LISTING_BYTES or b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
            return None
        try:
            root = ElementTree.fromstring(raw)  # noqa: S314 - no DTD (checked above), bounded size
        except ElementTree.ParseError:
            return None
        entries: list[tuple[str, datetime | None]] = []
        for item in root.iter("{DAV:}response"):
            href = item.findtext("{DAV:}href") or ""
            path = unquote(urlsplit(href.strip()).path)
            if not path or path.endswith("/"):
                continue  # the folder itself, or a sub-folder
            entries.append((path.rsplit("/", 1)[-1], _http_date(item.findtext(".//{DAV:}getlastmodified"))))
        return _http_date(response.headers.get("Date")), entries

    def delete(self, expected: str | None) -> None:
        current = self._check(expected)
        if current is None:
            return
        headers = {"If-Match": current.strong_etag} if current.strong_etag else {}
        response, _body = self._request("DELETE", self._url(POINTER), headers=headers)
        if response.status_code == 412:
            raise RemoteChanged(self._host)
        self._delete_quietly(current.blob)


def _http_date(value: str | None) -> datetime | None:
    try:
        moment = parsedate_to_datetime(value.strip()) if value else None
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def _pieces(data: bytes, progress: Progress | None) -> Iterator[bytes]:
    view = memoryview(data)
    step = 256 * 1024
    if progress:
        progress("upload", 0, len(view))
    for start in range(0, len(view), step):
        yield bytes(view[start : start + step])
        if progress:
            progress("upload", min(start + step, len(view)), len(view))

"""SFTP target over paramiko.

Write: upload to a new exclusive name (``SFTP_FLAG_EXCL``), re-check the
remote version, ``posix-rename@openssh.com`` over the blob (atomic), read back
and compare.  The host key is checked against a known_hosts file and is never
accepted silently: an unknown key is refused with its fingerprint so the owner
can compare it out of band; a changed key is refused as possible interception.

A push killed midway leaves a ``.sealbook.blob.<hex>.tmp`` upload behind.  The
next successful push removes those whose last write is well before its own
rename (by the server's clock: no other device can still be writing them);
after a purge (``forget``) it removes every one, since they may hold purged
records: a device still uploading one then fails its rename and pushes again.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import posixpath
import re
import secrets
import socket
import stat
from pathlib import Path
from typing import Any

import paramiko

from vault import crypto
from vault.i18n import _
from vault.sync.blob import HEADER_TAG_READ, Progress
from vault.sync.errors import (
    HostKeyMismatch,
    HostKeyUnknown,
    RemoteAuthFailed,
    RemoteChanged,
    RemoteRefused,
    RemoteStorageFull,
    RemoteUnreachable,
    RemoteVerifyFailed,
)
from vault.sync.remote import BLOB_NAME, Fetched, fetched, tag_of

_LEFTOVER = re.compile(rf"^\.{re.escape(BLOB_NAME)}\.[0-9a-f]+\.tmp$")
LEFTOVER_GRACE = 15 * 60  # seconds without a write after which an upload is abandoned


def fingerprint(key: paramiko.PKey) -> str:
    digest = hashlib.sha256(key.asbytes()).digest()
    return f"{key.get_name()} SHA256:{base64.b64encode(digest).decode().rstrip('=')}"


class _RefuseUnknown(paramiko.MissingHostKeyPolicy):  # type: ignore[misc]
    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        raise HostKeyUnknown(f"{hostname} {fingerprint(key)}")


class Sftp:
    def __init__(
        self,
        host: str,
        folder: str,
        *,
        port: int = 22,
        user: str = "",
        password: str | None = None,
        identity: str | None = None,
        known_hosts: str | Path | None = None,
        timeout: float = 20.0,
    ) -> None:
        self.host, self.port, self.folder = host, port, folder.rstrip("/") or "/"
        self.path = posixpath.join(self.folder, BLOB_NAME)
        self.removed = 0
        known = Path(known_hosts).expanduser() if known_hosts else Path("~/.ssh/known_hosts").expanduser()
        self._client = paramiko.SSHClient()
        if known.is_file():
            self._client.load_host_keys(str(known))
        self._client.set_missing_host_key_policy(_RefuseUnknown())
        try:
            self._client.connect(
                host,
                port=port,
                username=user or None,
                password=password,
                key_filename=identity or None,
                timeout=timeout,
                banner_timeout=timeout,
                auth_timeout=timeout,
                allow_agent=identity is None and password is None,
                look_for_keys=False,
            )
            self._sftp = self._client.open_sftp()
        except paramiko.BadHostKeyException as exc:
            self._client.close()
            raise HostKeyMismatch(f"{host}:{port} {fingerprint(exc.key)}") from None
        except paramiko.AuthenticationException:
            self._client.close()
            raise RemoteAuthFailed(f"{host}:{port}") from None
        except (OSError, paramiko.SSHException, EOFError) as exc:
            self._client.close()
            if isinstance(exc, (HostKeyUnknown, HostKeyMismatch)):
                raise
            raise RemoteUnreachable(f"{host}:{port}") from None
        except HostKeyUnknown:
            self._client.close()
            raise

    def describe(self) -> str:
        return f"sftp://{self.host}:{self.port}{self.folder}"

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._sftp.close()
        self._client.close()

    def _read(self, limit: int | None = None, progress: Progress | None = None) -> bytes | None:
        try:
            info = self._sftp.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise RemoteRefused("{}: {}".format(self.host, exc.strerror or _("stat failed"))) from None
        if info.st_mode is not None and not stat.S_ISREG(info.st_mode):
            raise RemoteRefused(_("{host}: {path} is not a file").format(host=self.host, path=self.path))
        total = info.st_size or 0
        out = bytearray()
        try:
            with self._sftp.open(self.path, "rb") as handle:
                handle.prefetch(total if limit is None else min(total, limit))
                while limit is None or len(out) < limit:
                    piece = handle.read(min(256 * 1024, (limit - len(out)) if limit else 256 * 1024))
                    if not piece:
                        break
                    out += piece
                    if progress:
                        progress("download", len(out), max(total, len(out)))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise RemoteRefused("{}: {}".format(self.host, exc.strerror or _("read failed"))) from None
        return bytes(out)

    def check(self) -> None:
        """For `sync setup` (the connection already checked the host key and the
        credentials): the folder exists (never created here)."""
        try:
            info = self._sftp.stat(self.folder)
        except OSError:
            info = None
        if info is None or not stat.S_ISDIR(info.st_mode or 0):
            raise RemoteRefused(_("{host}: {folder} is not a folder").format(host=self.host, folder=self.folder))
        self.version()

    def version(self) -> str | None:
        start = self._read(HEADER_TAG_READ)
        return None if start is None else tag_of(start)

    def fetch(self, progress: Progress | None = None) -> Fetched | None:
        data = self._read(progress=progress)
        if data is None:
            return None
        return fetched(data)

    def _expect(self, expected: str | None) -> None:
        if self.version() != expected:
            raise RemoteChanged(self.host)

    def put(self, data: bytes, expected: str | None, progress: Progress | None = None, *, forget: bool = False) -> str:
        self.removed = 0
        self._expect(expected)
        tmp = posixpath.join(self.folder, f".{BLOB_NAME}.{secrets.token_hex(6)}.tmp")
        try:
            handle: Any = self._sftp.open(tmp, "wbx")  # exclusive create: never reuse a name
            with handle:
                handle.set_pipelined(True)
                self._sftp.chmod(tmp, 0o600)
                view = memoryview(data)
                step = 256 * 1024
                for start in range(0, len(view), step):
                    handle.write(bytes(view[start : start + step]))
                    if progress:
                        progress("upload", min(start + step, len(view)), len(view))
            if self._sftp.stat(tmp).st_size != len(data):
                raise RemoteVerifyFailed(self.host)
            self._expect(expected)  # no conditional writes in SFTP: look again right before the rename
            self._sftp.posix_rename(tmp, self.path)
        except BaseException as exc:
            with contextlib.suppress(Exception):
                self._sftp.remove(tmp)
            if isinstance(exc, OSError):
                text = (exc.strerror or str(exc)).lower()
                if "space" in text or "quota" in text:
                    raise RemoteStorageFull(self.host) from None
                raise RemoteRefused("{}: {}".format(self.host, exc.strerror or _("write failed"))) from None
            if isinstance(exc, (paramiko.SSHException, EOFError, socket.error)):
                raise RemoteUnreachable(self.host) from None
            raise
        landed = self._read()
        if landed is None or crypto.digest(landed) != crypto.digest(data):
            raise RemoteVerifyFailed(self.host)
        self.removed = self._remove_leftovers(forget)
        return tag_of(data)

    def _remove_leftovers(self, every: bool) -> int:
        """Best effort: a left-over upload that cannot be removed now goes with a later push."""
        removed = 0
        try:
            now = self._sftp.stat(self.path).st_mtime or 0
            for entry in self._sftp.listdir_attr(self.folder):
                if not _LEFTOVER.match(entry.filename) or not stat.S_ISREG(entry.st_mode or 0):
                    continue
                if every or (entry.st_mtime or 0) < now - LEFTOVER_GRACE:
                    with contextlib.suppress(OSError):
                        self._sftp.remove(posixpath.join(self.folder, entry.filename))
                        removed += 1
        except (OSError, paramiko.SSHException, EOFError):
            pass
        return removed

    def delete(self, expected: str | None) -> None:
        self._expect(expected)
        with contextlib.suppress(FileNotFoundError):
            self._sftp.remove(self.path)


def open_sftp(url: str, user: str, password: str | None, identity: str | None, known_hosts: str | None) -> Sftp:
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    return Sftp(
        parts.hostname or "",
        unquote(parts.path),
        port=parts.port or 22,
        user=user,
        password=password,
        identity=identity,
        known_hosts=known_hosts,
    )

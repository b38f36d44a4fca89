"""Where a vault syncs to, and the secret that opens it.

Settings (target URL, user, known_hosts, identity file) live in the config
folder as JSON, one file per (vault, device).  The password / app password
lives in the OS keyring when one is available; otherwise in a 0600 JSON file
in the config folder, which is refused when its permissions are wider.  The
secret is never written into the vault or the blob.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import SplitResult, quote, urlsplit, urlunsplit

from vault.config import config_dir
from vault.errors import InvalidInput
from vault.fsutil import atomic_write, private_dir
from vault.i18n import _
from vault.sync.errors import CredentialsTooOpen, SyncNotConfigured, SyncStateDamaged

KEYRING_SERVICE = "sealbook-sync"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})  # plain http is allowed only to these


@dataclass(frozen=True)
class SyncSettings:
    url: str  # file path, https://..., or sftp://host[:port]/path
    user: str = ""
    known_hosts: str = ""  # SFTP: file with the pinned host key (default ~/.ssh/known_hosts)
    identity: str = ""  # SFTP: private key file (optional)
    secret_store: str = "none"  # noqa: S105 - where the secret is: "keyring", "file" or "none"

    @property
    def kind(self) -> str:
        scheme = urlsplit(self.url).scheme
        if scheme in ("http", "https"):
            return "webdav"
        if scheme == "sftp":
            return "sftp"
        return "local"

    @property
    def secret_key(self) -> str:
        """The keyring/file entry name: no secret, no vault content."""
        parts = urlsplit(self.url)
        return f"{self.kind}:{self.user}@{parts.hostname or 'local'}:{parts.port or ''}"

    def describe(self) -> str:
        """The target for messages, without any password."""
        parts = urlsplit(self.url)
        if parts.scheme:
            netloc = parts.hostname or ""
            if parts.port:
                netloc += f":{parts.port}"
            return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
        return self.url


def _check_host(parts: SplitResult, example: str) -> None:
    if not parts.hostname:
        raise InvalidInput("url", _("the address needs a host name: {example}").format(example=example))
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 and parts.netloc.rpartition("@")[2].rpartition("]")[2].count(":"):
        raise InvalidInput("url", _("the port must be a number from 1 to 65535"))


def normalise_url(url: str, user: str = "") -> str:
    """Accept a folder path, file:// URL, http(s) WebDAV folder, sftp:// URL, or
    ``nextcloud://host/folder`` (expanded to Nextcloud's WebDAV path for ``user``).

    Refuses (InvalidInput) what can never work: no host, a port out of range,
    plain http to another machine, text that is not valid Unicode."""
    url = url.strip()
    try:
        url.encode("utf-8")
        user.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("url", _("the address or user name is not valid text")) from None
    if not url:
        raise InvalidInput("url", _("give a folder, https://..., nextcloud://host/folder or sftp://host/folder"))
    parts = urlsplit(url)
    if parts.scheme in ("http", "https", "nextcloud", "sftp"):
        _check_host(parts, "https://host/folder" if parts.scheme != "sftp" else "sftp://host[:port]/folder")
    if parts.scheme == "file":
        return str(Path(parts.path).expanduser().resolve())
    if parts.scheme == "":
        return str(Path(url).expanduser().resolve())
    if parts.username or parts.password:
        raise InvalidInput("url", _("put the user in --user and never a password in the URL"))
    if parts.scheme == "nextcloud":
        if not user:
            raise InvalidInput("user", _("a Nextcloud target needs --user"))
        folder = parts.path.strip("/")
        path = f"/remote.php/dav/files/{quote(user)}/{folder}/" if folder else f"/remote.php/dav/files/{quote(user)}/"
        return urlunsplit(("https", parts.netloc, path, "", ""))
    if parts.scheme in ("http", "https"):
        if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
            raise InvalidInput("url", _("refusing to send credentials over plain http; use https://"))
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        return urlunsplit((parts.scheme, parts.netloc, path, "", ""))
    if parts.scheme == "sftp":
        if not parts.hostname or not parts.path:
            raise InvalidInput("url", _("use sftp://host[:port]/folder"))
        return urlunsplit(("sftp", parts.netloc, parts.path.rstrip("/") or "/", "", ""))
    raise InvalidInput(
        "url", _("use a folder path, https://... (WebDAV), nextcloud://host/folder or sftp://host/folder")
    )


def sync_config_dir() -> Path:
    return config_dir() / "sync"


class SettingsFile:
    def __init__(self, vault_id: str, device_id: str, directory: Path | None = None) -> None:
        self.directory = directory or sync_config_dir()
        self.path = self.directory / f"{vault_id}-{device_id}.json"

    def exists(self) -> bool:
        return self.path.is_file()

    def load(self) -> SyncSettings:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return SyncSettings(**data)
        except FileNotFoundError:
            raise SyncNotConfigured() from None
        except (OSError, ValueError, TypeError):
            raise SyncStateDamaged(str(self.path)) from None

    def save(self, settings: SyncSettings) -> None:
        private_dir(self.directory)
        atomic_write(self.path, json.dumps(asdict(settings), indent=1).encode("utf-8"))


# --- secrets ----------------------------------------------------------------------


def _keyring_usable() -> bool:
    if os.environ.get("SEALBOOK_NO_KEYRING") == "1":
        return False
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring):
            return False
        chained = getattr(backend, "backends", None)
        return not (chained is not None and not chained)
    except Exception:  # any keyring import/config problem: fall back to the file
        return False


class Secrets:
    """Password storage: OS keyring if available, else a 0600 file."""

    def __init__(self, directory: Path | None = None) -> None:
        self.file = (directory or sync_config_dir()) / "credentials.json"

    def store(self, key: str, secret: str) -> str:
        """Store ``secret``; returns where ("keyring" or "file")."""
        if _keyring_usable():
            try:
                import keyring

                keyring.set_password(KEYRING_SERVICE, key, secret)
                return "keyring"
            except Exception:  # noqa: S110 - a locked/unavailable keyring: fall back to the file
                pass
        data = self._read_file()
        data[key] = secret
        private_dir(self.file.parent)
        atomic_write(self.file, json.dumps(data).encode("utf-8"))
        return "file"

    def load(self, key: str, where: str) -> str | None:
        if where == "keyring":
            import keyring

            try:
                return keyring.get_password(KEYRING_SERVICE, key)
            except Exception:
                return None
        if where == "file":
            return self._read_file().get(key)
        return None

    def _read_file(self) -> dict[str, str]:
        try:
            fd = os.open(self.file, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return {}
        except OSError:
            raise CredentialsTooOpen(str(self.file)) from None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_IMODE(info.st_mode) & 0o077 or info.st_uid != os.getuid():
                raise CredentialsTooOpen(str(self.file))
            try:
                data = json.loads(handle.read(1024 * 1024).decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                raise SyncStateDamaged(str(self.file)) from None
        if not isinstance(data, dict):
            raise SyncStateDamaged(str(self.file))
        return {str(k): str(v) for k, v in data.items()}

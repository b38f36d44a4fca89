"""Real servers on 127.0.0.1 for the sync tests: wsgidav (in-process, behind a
fault-injecting WSGI wrapper), Apache httpd with mod_dav, OpenSSH sshd."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DAV_USER = "owner"
DAV_PASSWORD = "app-password-1234"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # bounded
        if proc is not None and proc.poll() is not None:
            return False
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
        time.sleep(0.05)
    return False


# --- fault injection ---------------------------------------------------------------------


@dataclass
class Rule:
    method: str
    match: str
    action: str  # an HTTP status like "412", "cut" or "ignore-conditions"
    times: int


@dataclass
class Faults:
    """Rules consumed in order: the next matching request gets the fault."""

    rules: list[Rule] = field(default_factory=list)
    seen: list[tuple[str, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, action: str, *, match: str = "", times: int = 1) -> None:
        with self.lock:
            self.rules.append(Rule(method, match, action, times))

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()
            self.seen.clear()

    def take(self, method: str, path: str) -> str | None:
        with self.lock:
            for rule in self.rules:
                if rule.method == method and rule.match in path and rule.times > 0:
                    rule.times -= 1
                    return rule.action
        return None

    def wrap(self, app: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
            action = self.take(method, path)
            length = int(environ.get("CONTENT_LENGTH") or 0)
            if action == "ignore-conditions":
                for key in ("HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH"):
                    environ.pop(key, None)
                action = None
            if action is None:
                self.seen.append((method, path, 0))
                return app(environ, start_response)
            body = environ["wsgi.input"].read(length) if length else b""
            if action == "cut":
                # What a server does with an upload whose connection dropped half-way:
                # hand the partial body to the DAV layer (wsgidav writes it to the
                # target), then fail.
                partial = body[: len(body) // 2]
                environ["wsgi.input"] = io.BytesIO(partial)
                environ["CONTENT_LENGTH"] = str(len(partial))
                with contextlib.suppress(Exception):
                    for _ in app(environ, lambda *a, **k: None):
                        pass
                action = "500"
            self.seen.append((method, path, int(action)))
            start_response(f"{action} Injected", [("Content-Length", "0")])
            return [b""]

        return wrapper


# --- wsgidav -----------------------------------------------------------------------------------


@dataclass
class DavServer:
    url: str
    root: Path
    faults: Faults
    user: str = DAV_USER
    password: str = DAV_PASSWORD

    def folder(self, name: str) -> str:
        return f"{self.url}{name}/"


@contextlib.contextmanager
def run_wsgidav(root: Path) -> Iterator[DavServer]:
    from cheroot import wsgi
    from wsgidav.wsgidav_app import WsgiDAVApp

    config = {
        "host": "127.0.0.1",
        "port": 0,
        "provider_mapping": {"/": str(root)},
        "simple_dc": {"user_mapping": {"*": {DAV_USER: {"password": DAV_PASSWORD}}}},
        "http_authenticator": {"accept_basic": True, "accept_digest": False, "default_to_digest": False},
        "verbose": 0,
        "logging": {"enable": False, "enable_loggers": []},
        "lock_storage": True,
        "property_manager": True,
        "dir_browser": {"enable": False},
    }
    faults = Faults()
    app = faults.wrap(WsgiDAVApp(config))
    server = wsgi.Server(("127.0.0.1", 0), app, numthreads=4)
    server.prepare()
    port = server.bind_addr[1]
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield DavServer(f"http://127.0.0.1:{port}/", root, faults)
    finally:
        server.stop()
        thread.join(timeout=5)


# --- Apache httpd + mod_dav ------------------------------------------------------------------------

APACHE = "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"


@contextlib.contextmanager
def run_apache() -> Iterator[DavServer]:
    base = Path(tempfile.mkdtemp(prefix="sealbook-apache-"))
    os.chmod(base, 0o755)  # noqa: S103 - the server user (nobody) must traverse it
    htdocs = base / "htdocs"
    htdocs.mkdir()
    port = free_port()
    digest = base64.b64encode(hashlib.sha1(DAV_PASSWORD.encode()).digest()).decode()  # noqa: S324 - htpasswd {SHA}
    (base / "htpasswd").write_text(f"{DAV_USER}:{{SHA}}{digest}\n")
    user_lines = ""
    if os.geteuid() == 0:
        # httpd refuses to serve as root: the children run as nobody, who must own the files.
        nobody = pwd.getpwnam("nobody")
        for path in (htdocs, base):
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
        (base / "htpasswd").chmod(0o644)
        user_lines = "User nobody\nGroup nogroup\n"
    modules = [
        "mpm_event",
        "authz_core",
        "authn_core",
        "authn_file",
        "auth_basic",
        "authz_user",
        "dav",
        "dav_fs",
        "unixd",
    ]
    loads = "\n".join(
        f"LoadModule {m}_module {MODULES}/mod_{m}.so" for m in modules if Path(f"{MODULES}/mod_{m}.so").exists()
    )
    (base / "httpd.conf").write_text(f"""
ServerRoot "{base}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{base}/httpd.pid"
ErrorLog "{base}/error.log"
LogLevel warn
{loads}
{user_lines}
DAVLockDB "{base}/davlock"
DocumentRoot "{htdocs}"
<Directory "{htdocs}">
  Dav On
  AuthType Basic
  AuthName "sealbook"
  AuthUserFile "{base}/htpasswd"
  Require valid-user
</Directory>
""")
    env = dict(os.environ, APACHE_RUN_DIR=str(base), APACHE_LOCK_DIR=str(base), APACHE_LOG_DIR=str(base))
    proc = subprocess.Popen(
        [APACHE, "-f", str(base / "httpd.conf"), "-DFOREGROUND"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        if not wait_for_port(port, proc):
            err = proc.stderr.read().decode(errors="replace") if proc.poll() is not None and proc.stderr else ""
            log = (base / "error.log").read_text(errors="replace") if (base / "error.log").exists() else ""
            raise RuntimeError(f"apache did not start: {err} {log}"[:2000])
        yield DavServer(f"http://127.0.0.1:{port}/", htdocs, Faults())
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        shutil.rmtree(base, ignore_errors=True)


# --- OpenSSH sshd ------------------------------------------------------------------------------------


@dataclass
class SshServer:
    host: str
    port: int
    user: str
    identity: Path
    known_hosts: Path
    root: Path
    host_pub: str

    def url(self, name: str) -> str:
        return f"sftp://{self.host}:{self.port}{self.root}/{name}"


@contextlib.contextmanager
def run_sshd() -> Iterator[SshServer]:
    base = Path(tempfile.mkdtemp(prefix="sealbook-sshd-"))
    os.chmod(base, 0o755)  # noqa: S103 - the server user (nobody) must traverse it
    root = base / "files"
    root.mkdir()
    port = free_port()
    user = pwd.getpwuid(os.geteuid()).pw_name
    keygen = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"
    for name in ("host", "client"):
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(base / name)], check=True)
    (base / "authorized_keys").write_text((base / "client.pub").read_text())
    (base / "authorized_keys").chmod(0o600)
    host_pub = (base / "host.pub").read_text().split()
    known = base / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
    (base / "sshd_config").write_text(f"""
Port {port}
ListenAddress 127.0.0.1
HostKey {base}/host
PidFile {base}/sshd.pid
AuthorizedKeysFile {base}/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
AllowUsers {user}
Subsystem sftp internal-sftp
LogLevel ERROR
""")
    if os.geteuid() == 0 and not Path("/run/sshd").exists():
        # sshd's privilege-separation directory (the Debian service creates it at start).
        Path("/run/sshd").mkdir(mode=0o755)
    proc = subprocess.Popen(
        ["/usr/sbin/sshd", "-D", "-e", "-f", str(base / "sshd_config")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        if not wait_for_port(port, proc):
            err = proc.stderr.read().decode(errors="replace") if proc.poll() is not None and proc.stderr else ""
            raise RuntimeError(f"sshd did not start: {err}"[:2000])
        yield SshServer("127.0.0.1", port, user, base / "client", known, root, host_pub[1])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        shutil.rmtree(base, ignore_errors=True)

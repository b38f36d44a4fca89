"""A property over the command line's grammar (issue 12): every command of
``tui.cli.build_parser()`` with hostile arguments, and the answer is always a
documented exit code (0-7; 70, "unexpected error", is a failure) without a
Python traceback, and a message whenever it refuses.

The commands and their options are read from the argparse parser itself, so a
new option is covered without touching this file.  Values come by kind: dates
out of range or malformed, numbers (nan, 1e308, -5, 20 digits), text with control,
bidi and zero-width characters or invalid UTF-8 (raw bytes in argv), huge values,
and paths that are folders, symbolic links (dangling too), files that are not
SQLite, zero-byte files, paths through a file and undecodable names.  NUL cannot
be in argv, so it comes in files: a passphrase file, an import file, a config
file, and on standard input.

Each example runs on its own copy of a small vault (with a sync target on a local
folder and an open request), so commands that succeed change nothing for the
next.  `schedule install` and `schedule remove` are left out (they would touch
this user's systemd), and no URL names a real remote host (no network).
Default: 40 examples, derandomized; ``-m long``: 400.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from tests.conftest import PASSPHRASE, WEAK_KDF, draft
from tests.faults.conftest import Outcome, Sealbook, problems, retarget_sync, write_vcards
from tui.cli import build_parser
from vault.requests import RequestType
from vault.service import Vault

SKIPPED = {("schedule", "install"), ("schedule", "remove")}


@dataclass(frozen=True)
class Raw:
    """An argument given as bytes (invalid UTF-8 is possible only so)."""

    data: bytes


@dataclass(frozen=True)
class Ref:
    """A thing of the example's own folder, made when the example runs: a path kind,
    an id of the vault, or a secret file."""

    name: str


Arg = str | Raw | Ref


# --- the grammar ----------------------------------------------------------------------------------


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    for name, sub in subs[0].choices.items():
        yield from _commands(sub, (*path, name))


COMMANDS = {path: parser for path, parser in _commands(build_parser()) if path not in SKIPPED}

# --- values by kind ---------------------------------------------------------------------------------

TOMORROW = (date.today() + timedelta(days=1)).isoformat()
DATES = ["9999-12-31", "0001-01-01", "1899-12-31", "2200-01-01", "2025-02-30", "2025-13-01", "-2025-01-01",
         "20250310", "2025-3-1", "", " 2025-03-10", "2025-03-10T00:00", "2025-03-10", "99999-01-01", TOMORROW,
         "2025-03-10\u202e", "٢٠٢٥-٠٣-١٠"]  # fmt: skip
GOOD_DATES = ["2025-03-10", "2024-02-29", "2026-01-01", date.today().isoformat()]
NUMBERS = ["0", "-1", "1", "8", "x", "nan", "inf", "1e308", "1e3", "99999999999999999999", " 5", "", "0x10"]
SECONDS = ["0", "3600", "3601", "nan", "inf", "-5", "1e308", "0.001", "x", "", "1e-400"]
FINGERPRINTS = ["0" * 32, "g" * 32, "abc", "A" * 32, "0" * 33, "", "\u202e" + "0" * 31]
DUTIES = ["invoices-8y:2025-03-10", "invoices-8y:9999-12-31", "invoices-8y:0001-01-01", ":2025-03-10",
          "nope:2025-03-10", "invoices-8y", "a:b:c", "invoices-8y:", "\x1b[2J:2025-03-10"]  # fmt: skip
RULES = [
    "invoices-8y",
    "inquiry-6m",
    "consent",
    "limitation-3y",
    "nope",
    "",
    "../x",
    "\u202einvoices-8y",
    "INVOICES-8Y",
]
URLS: list[Arg] = [Ref("folder"), Ref("missing"), Ref("text file"), Ref("empty file"), Ref("inside a file"),
                   "https:///", "https://", "https://:8080/x", "sftp://host:99999/x", "sftp://", "sftp://host:0/x",
                   "nextcloud://", "nextcloud:///folder", "http://example.invalid/x", "ftp://example.invalid/x",
                   "https://user:secret@localhost/x", "", "file:///nonexistent/x", Raw(b"/tmp/\xff\xfe"),
                   "\u202e/tmp/x", "relative/folder"]  # fmt: skip
PATHS: list[Arg] = [Ref("vault"), Ref("vault"), Ref("vault"), Ref("missing"), Ref("folder"), Ref("symlink"),
                    Ref("dangling symlink"), Ref("text file"), Ref("empty file"), Ref("inside a file"),
                    Ref("binary file"), Ref("nul file"), Raw(b"/tmp/\xff\xfe.sqlite"), Ref("vcard")]  # fmt: skip
CONFIGS: list[Arg] = [Ref("missing"), Ref("folder"), Ref("text file"), Ref("empty file"), Ref("binary file"),
                      Ref("nul file"), Ref("invalid utf-8 file"), Ref("symlink"), Raw(b"/tmp/\xff.toml")]  # fmt: skip
SECRETS: list[Arg] = ["-", "-", Ref("passphrase file"), Ref("wrong passphrase file"), Ref("nul file"),
                      Ref("invalid utf-8 file"), Ref("folder"), Ref("missing"), Ref("empty file"),
                      Ref("passphrase symlink"), Ref("binary file"), Raw(b"/tmp/\xff.txt")]  # fmt: skip
IMPORTS: list[Arg] = [Ref("vcard"), Ref("csv"), Ref("vcard with NUL"), Ref("invalid utf-8 file"), Ref("binary file"),
                      Ref("empty file"), Ref("folder"), Ref("missing"), Ref("vcard symlink"), Ref("vault"),
                      Ref("hostile vcard"), Raw(b"/tmp/\xff.vcf")]  # fmt: skip
OUTS: list[Arg] = [Ref("new folder"), Ref("empty folder"), Ref("folder"), Ref("text file"), Ref("inside a file"),
                   Ref("missing parent"), Ref("symlink to folder"), Raw(b"/tmp/\xff-out")]  # fmt: skip
IDS: list[Arg] = [Ref("id"), Ref("id"), Ref("id prefix"), Ref("short prefix"), Ref("request id"), "abcd", "", "0000",
                  "-", "\u202eabcd", Raw(b"\xff\xfe"), "' OR 1=1 --", "%s%n"]  # fmt: skip
STDINS = ["pass", "pass", "pass and new", "wrong", "invalid utf-8", "nul", "empty", "huge", "bidi"]

HOSTILE = ["\x1b[31mred\x1b[0m", "\x1b]0;title\x07", "a\u202eevil", "\u2066x\u2069", "zero\u200bwidth", "\ufeffbom",
           "\r\n", "tab\there", "\x7f", "\x9b31m", "Jürgen Müller", "Weiß", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "=cmd|' /C calc'!A0",
           "@SUM(1+1)", "-2+3", "<b>markup</b>", "[bold]rich[/bold]", "../../etc/passwd", " ", "", "--name",
           "a@b", "+49 30 1234567", "x" * 1025]  # fmt: skip


def _huge(piece: str, size: int) -> str:
    return piece * max(1, size // len(piece.encode("utf-8")))


PLAIN = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=24)
# Invalid UTF-8 anywhere ends at the argument check (exit 2), so it comes less often than the rest.
TEXT = st.one_of(
    PLAIN,
    PLAIN,
    st.sampled_from(HOSTILE),
    st.sampled_from(HOSTILE),
    st.builds(
        _huge,
        st.sampled_from(["x", "é", "\u202e", "\x1b[31m", "a@example.org,"]),
        st.sampled_from([1025, 64 * 1024 + 1, 120 * 1024]),
    ),
    st.builds(Raw, st.sampled_from([b"\xff\xfe", b"abc\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"ok\x80ok"])),
)


def _values(action: argparse.Action) -> st.SearchStrategy[Arg]:
    kind = getattr(action.type, "__name__", "")
    dest = action.dest
    if action.choices is not None:
        return st.one_of(st.sampled_from([str(c) for c in action.choices]), st.sampled_from(["", "x", "CONTRACT"]))
    if kind in ("iso_date", "_date", "_iso_date"):
        return st.one_of(st.sampled_from(GOOD_DATES), st.sampled_from(DATES), st.sampled_from(DATES), TEXT)
    if kind == "_positive":
        return st.sampled_from(NUMBERS)
    if kind == "_seconds":
        return st.sampled_from(SECONDS)
    if kind == "_fingerprint":
        return st.sampled_from(FINGERPRINTS)
    if kind == "duty_arg":
        return st.one_of(st.sampled_from(DUTIES), TEXT)
    table: dict[str, list[Arg]] = {
        "vault": PATHS, "config": CONFIGS, "known_hosts": PATHS, "identity": PATHS, "out": OUTS, "file": IMPORTS,
        "url": URLS, "passphrase_file": SECRETS, "new_passphrase_file": SECRETS, "password_file": SECRETS,
        "id": IDS, "records": IDS, "rule": [*RULES],
    }  # fmt: skip
    if dest in table:
        return st.one_of(st.sampled_from(table[dest]), TEXT) if dest in ("rule", "id") else st.sampled_from(table[dest])
    return TEXT


@dataclass(frozen=True)
class Invocation:
    argv: tuple[Arg, ...]
    stdin: str


@st.composite
def invocations(draw: st.DrawFn) -> Invocation:
    path = draw(st.sampled_from(sorted(COMMANDS)))
    argv: list[Arg] = list(path)
    for action in COMMANDS[path]._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if not action.option_strings:  # a positional
            count = {"?": (0, 1), "*": (0, 2)}.get(str(action.nargs), (1, 1))
            low = 0 if draw(st.integers(0, 19)) == 0 else count[0]  # now and then a missing one
            argv += draw(st.lists(_values(action), min_size=low, max_size=count[1]))
            continue
        flag = action.option_strings[-1]
        wanted = 0.95 if action.required or action.dest == "vault" else 0.3
        if draw(st.floats(0, 1)) >= wanted:
            continue
        if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
            argv.append(flag)
            continue
        times = draw(st.integers(1, 2)) if isinstance(action, argparse._AppendAction) else 1
        for _ in range(times):
            argv += [flag, draw(_values(action))]
    return Invocation(tuple(argv), draw(st.sampled_from(STDINS)))


# --- the scene -------------------------------------------------------------------------------------


@dataclass
class Scene:
    root: Path
    home: Path
    vault: Path
    folder: Path
    ids: list[str]
    request: str


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Scene:
    root = tmp_path_factory.mktemp("grammar")
    sb = Sealbook(root / "home")
    vault = root / "v" / "vault.sqlite"
    vault.parent.mkdir()
    folder = root / "shared"
    folder.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        for name, value in sb.xdg().items():
            mp.setenv(name, value)
        mp.setenv("SEALBOOK_NO_KEYRING", "1")
        with Vault.create(vault, PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True) as v:
            ids = [v.add(draft(name=f"Grammar Person{j}", emails=(f"g{j}@example.org",))).id for j in range(3)]
            request = v.open_request(RequestType.ACCESS, ids[:1]).id
            v.sync_setup(str(folder))
            v.sync_push()
    return Scene(root, root / "home", vault, folder, ids, request)


def _stage(scene: Scene) -> tuple[Path, dict[str, str]]:
    """The example's own copy of the vault, its home and every path kind; Ref name -> text."""
    work = Path(tempfile.mkdtemp(dir=scene.root, prefix="ex-"))
    shutil.copytree(scene.home, work / "home", symlinks=True)
    shutil.copytree(scene.vault.parent, work / "v", symlinks=True)
    shutil.copytree(scene.folder, work / "shared", symlinks=True)
    retarget_sync(work / "home", scene.folder, work / "shared")
    vault = work / "v" / "vault.sqlite"
    (work / "folder").mkdir()
    (work / "folder" / "something.txt").write_text("x")
    (work / "empty-folder").mkdir()
    (work / "text.txt").write_text("not a database, not TOML = [\n")
    (work / "empty").write_bytes(b"")
    (work / "binary").write_bytes(bytes(range(256)) * 16)
    (work / "nul.txt").write_bytes(b"correct horse\x00battery staple\n")
    (work / "bad-utf8.txt").write_bytes(b"\xff\xfe\xfd\n")
    (work / "pass.txt").write_text(PASSPHRASE + "\n")
    (work / "wrong.txt").write_text("not the passphrase\n")
    write_vcards(work / "people.vcf", [("Vcard Person", "vcard@example.org")])
    (work / "people.csv").write_text("Name,E-mail Address\nCsv Person,csv@example.org\n")
    (work / "nul.vcf").write_bytes(b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Nul\x00Person\r\nEND:VCARD\r\n")
    (work / "hostile.vcf").write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:\x1b]0;pwned\x07\u202eEvil\r\nEMAIL:=cmd|calc@example.org\r\n"
        "NOTE:" + "x" * 70000 + "\r\nBDAY:9999-99-99\r\nEND:VCARD\r\n",
        encoding="utf-8",
    )
    (work / "symlink").symlink_to(vault)
    (work / "dangling").symlink_to(work / "nowhere" / "x")
    (work / "pass-link").symlink_to(work / "pass.txt")
    (work / "vcf-link").symlink_to(work / "people.vcf")
    (work / "folder-link").symlink_to(work / "empty-folder")
    refs = {
        "vault": vault, "missing": work / "missing" / "x.sqlite", "folder": work / "folder",
        "symlink": work / "symlink", "dangling symlink": work / "dangling", "text file": work / "text.txt",
        "empty file": work / "empty", "inside a file": work / "text.txt" / "x", "binary file": work / "binary",
        "nul file": work / "nul.txt", "invalid utf-8 file": work / "bad-utf8.txt", "passphrase file": work / "pass.txt",
        "wrong passphrase file": work / "wrong.txt", "passphrase symlink": work / "pass-link",
        "vcard": work / "people.vcf", "csv": work / "people.csv", "vcard with NUL": work / "nul.vcf",
        "hostile vcard": work / "hostile.vcf", "vcard symlink": work / "vcf-link", "new folder": work / "out-new",
        "empty folder": work / "empty-folder", "missing parent": work / "missing" / "deeper" / "out",
        "symlink to folder": work / "folder-link",
    }  # fmt: skip
    text = {name: str(path) for name, path in refs.items()}
    text.update({"id": scene.ids[0], "id prefix": scene.ids[1][:6], "short prefix": scene.ids[2][:3],
                 "request id": scene.request})  # fmt: skip
    return work, text


STDIN_TEXT = {
    "pass": PASSPHRASE + "\n",
    "pass and new": f"{PASSPHRASE}\n{PASSPHRASE} new one\n{PASSPHRASE} new one\n",
    "wrong": "not the passphrase\n",
    "invalid utf-8": "\udcff\udcfe\n",  # surrogateescape: the bytes ff fe
    "nul": "correct horse\x00battery staple\n",
    "empty": "",
    "huge": "y" * 200_000 + "\n",
    "bidi": "\u202e" + PASSPHRASE + "\n",
}


def run_invocation(scene: Scene, invocation: Invocation) -> Outcome:
    work, refs = _stage(scene)
    try:
        argv: list[str | bytes] = []
        for arg in invocation.argv:
            if isinstance(arg, Raw):
                argv.append(arg.data)
            elif isinstance(arg, Ref):
                argv.append(refs[arg.name])
            else:
                argv.append(arg)
        return Sealbook(work / "home").run(*argv, stdin=STDIN_TEXT[invocation.stdin], timeout=90)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# Failures an exact strict-xfail test below reproduces: the property notes them and goes on
# looking for others (with derandomize it would otherwise stop at the same example every run).
# Empty now: the huge request id (a LIKE pattern over SQLite's limit) is fixed.
KNOWN_BUGS: dict[str, Callable[[Invocation, Outcome], bool]] = {}


def check(scene: Scene, invocation: Invocation) -> None:
    outcome = run_invocation(scene, invocation)
    words = [a for a in invocation.argv[:2] if isinstance(a, str) and not a.startswith("-")]
    event(f"{' '.join(words)} -> exit {outcome.code}")
    found = problems(outcome)
    known = [test for test, matches in KNOWN_BUGS.items() if found and matches(invocation, outcome)]
    if known:
        event(f"known bug, see {known[0]}")
        return
    assert not found, "; ".join(found) + "\n" + outcome.describe()


FAST = settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: each step is a process; the example is printed
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FAST
@given(invocation=invocations())
def test_every_command_answers_hostile_arguments_with_a_documented_exit(scene: Scene, invocation: Invocation) -> None:
    check(scene, invocation)


@pytest.mark.long
@settings(FAST, max_examples=400)
@given(invocation=invocations())
def test_every_command_answers_hostile_arguments_long(scene: Scene, invocation: Invocation) -> None:
    check(scene, invocation)


def test_the_grammar_covers_every_command() -> None:
    names = {" ".join(path) for path in COMMANDS}
    assert {"add", "edit", "erase", "import", "purge", "passwd", "sync pull", "sync setup", "request open"} <= names
    assert "schedule install" not in names


# --- known bugs, exactly --------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["close", "extend"])
def test_a_huge_request_id_is_not_found_not_a_crash(scene: Scene, action: str) -> None:
    extra = ["--reason", "late", "--informed", "2026-01-01"] if action == "extend" else []
    invocation = Invocation(
        ("request", action, "x" * 60_000, *extra, "--vault", Ref("vault"), "--passphrase-file", "-"), "pass"
    )
    outcome = run_invocation(scene, invocation)
    assert outcome.code in (1, 5) and not problems(outcome), outcome.describe()

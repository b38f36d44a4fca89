"""What every CLI command shares: vault option, passphrase input, output, exit codes."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tui.crash import EXIT_INTERNAL, crash_line, crash_report
from vault.errors import (
    ContactNotFound,
    InvalidInput,
    KdfParametersRefused,
    NotAVault,
    RequestNotFound,
    SuppressedPerson,
    VaultBusy,
    VaultDamaged,
    VaultError,
    VaultNotFound,
    WrongPassphrase,
)
from vault.i18n import N_, _, choose, language, set_language
from vault.safetext import is_hidden, printable

if TYPE_CHECKING:
    from vault.config import Config
    from vault.model import Contact
    from vault.service import Vault

EXIT_OK = 0
EXIT_ERROR = 1  # any other refused operation (invalid input, exists, ...)
EXIT_USAGE = 2  # argparse's own code for a bad command line
EXIT_WRONG_PASSPHRASE = 3
EXIT_DAMAGED = 4  # damaged, tampered or foreign file; refused KDF parameters
EXIT_NOT_FOUND = 5  # no vault at the path, or no such contact
EXIT_BUSY = 6  # another process holds the vault; try again later
EXIT_SUPPRESSED = 7  # the person (or a detail an edit adds) is on the suppression list; nothing was saved

# The language `--lang` asked for in this run ("de", "en"), or None: then the
# config's `language` applies once a command loads the config (vault.i18n.choose).
CLI_LANGUAGE: str | None = None

EXIT_CODES_HELP = N_(
    """exit codes:
  0  success
  1  refused (invalid input, vault exists, ...); the message says why
  2  usage error (bad command line)
  3  wrong passphrase
  4  vault damaged, tampered with, or not a sealbook vault
  5  not found (no vault at the path, or no such contact)
  6  busy: another sealbook process is working on the vault; try later
  7  the person is on the suppression list (withdrew consent, objected, was
     erased); nothing was added
 70  unexpected error (a bug): one line here, where it happened in the log folder
"""
)


def exit_codes_help() -> str:
    """The exit codes for the end of every --help, in the current language."""
    return _(EXIT_CODES_HELP)


def exit_code_for(error: VaultError) -> int:
    if isinstance(error, WrongPassphrase):
        return EXIT_WRONG_PASSPHRASE
    if isinstance(error, (VaultDamaged, NotAVault, KdfParametersRefused)):
        return EXIT_DAMAGED
    if isinstance(error, (VaultNotFound, ContactNotFound, RequestNotFound)):
        return EXIT_NOT_FOUND
    if isinstance(error, VaultBusy):
        return EXIT_BUSY
    if isinstance(error, SuppressedPerson):
        return EXIT_SUPPRESSED
    return EXIT_ERROR


def harden() -> None:
    from vault.hardening import harden_process  # ctypes: ~15 ms that `--help` does not need

    harden_process()


def run_guarded(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command; a VaultError becomes its message on stderr and its exit code."""
    try:
        return handler(args)
    except VaultError as error:
        # A plain VaultError's first sentence says nothing ("Something went wrong..."): its detail says why.
        message = error.detail if type(error) is VaultError and error.detail else error
        print(f"sealbook: {plain(message, None)}", file=sys.stderr)  # the message may name a record id
        return exit_code_for(error)
    except KeyboardInterrupt:
        print(_("sealbook: interrupted; nothing half-written was kept"), file=sys.stderr)
        return 130
    except Exception as error:
        print(crash_line(error, crash_report(error)), file=sys.stderr)
        return EXIT_INTERNAL


# --- options ----------------------------------------------------------------


def add_vault_option(parser: argparse.ArgumentParser, *, lang_option: bool = True) -> None:
    parser.add_argument(
        "--vault",
        type=Path,
        default=argparse.SUPPRESS,
        help=_("vault file (default: $SEALBOOK_VAULT or the platform data folder)"),
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,
        help=_("config file (default: $SEALBOOK_CONFIG or the platform config folder)"),
    )
    if lang_option:
        add_lang_option(parser)


def add_lang_option(parser: argparse.ArgumentParser) -> None:
    """`--lang de|en`: the language of this run (read before parsing; see tui.cli.main)."""
    parser.add_argument(
        "--lang",
        choices=("de", "en"),
        default=argparse.SUPPRESS,
        help=_("language of this run (default: the config's language, else LANG, else English)"),
    )


def add_passphrase_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--passphrase-file",
        metavar="FILE",
        help=_("read the passphrase from the first line of FILE ('-' = standard input)"),
    )


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help=_("print JSON for scripts"))


def command(
    subparsers: Any,
    name: str,
    handler: Callable[[argparse.Namespace], int],
    help_text: str,
    *,
    lang_option: bool = True,
) -> argparse.ArgumentParser:
    """A subcommand with --vault/--config (and --lang unless ``lang_option`` is False:
    `export --lang` is the answer letter's) and its handler attached."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=exit_codes_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_vault_option(parser, lang_option=lang_option)
    parser.set_defaults(handler=handler)
    return parser


def iso_date(text: str) -> date:
    """An argparse type: a date written YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("not a date (YYYY-MM-DD): {text!r}").format(text=text)) from None


def vault_path(args: argparse.Namespace) -> Path:
    path: Path | None = getattr(args, "vault", None)
    from vault.config import default_vault_path  # platformdirs: not for `--help` (issue 15)

    return path.expanduser() if path else default_vault_path()


def config_path(args: argparse.Namespace) -> Path:
    """`--config`, else $SEALBOOK_CONFIG, else the platform config folder."""
    path: Path | None = getattr(args, "config", None)
    from vault.config import default_config_path

    return path.expanduser() if path else default_config_path()


def config(args: argparse.Namespace) -> Config:
    from vault.config import load_config

    loaded = load_config(config_path(args))
    apply_config_language(loaded)
    return loaded


def apply_config_language(loaded: Config) -> None:
    """The config's `language` decides when `--lang` did not (issue 14); read defensively."""
    wanted = getattr(loaded, "language", None)
    if CLI_LANGUAGE is None and isinstance(wanted, str) and wanted:
        chosen = choose(None, wanted)
        if chosen != language():
            set_language(chosen)


# --- passphrases ---------------------------------------------------------------

_stdin_lines: list[str] | None = None


def _next_stdin_line() -> str:
    """Lines of standard input, read once (so `-` can serve two passphrases)."""
    global _stdin_lines
    if _stdin_lines is None:
        _stdin_lines = sys.stdin.read().splitlines()
    if not _stdin_lines:
        raise InvalidInput(_("passphrase"), _("standard input ended before a passphrase was read"))
    return _checked_secret(_stdin_lines.pop(0))


def _checked_secret(line: str) -> str:
    """Python reads undecodable bytes as lone surrogates: refuse them here, by name."""
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(_("passphrase"), _("is not valid UTF-8 text")) from None
    return line


def read_secret(source: str | None, prompt: str, *, confirm: bool = False) -> str:
    """A passphrase from FILE, '-' (stdin) or, when None, the terminal (no echo)."""
    if source == "-":
        return _next_stdin_line()
    if source:
        try:
            with open(source, encoding="utf-8") as handle:
                line = handle.readline()
        except OSError as exc:
            raise InvalidInput(_("passphrase file"), exc.strerror or _("cannot be read")) from None
        except UnicodeDecodeError:
            raise InvalidInput(_("passphrase file"), _("is not UTF-8 text")) from None
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InvalidInput(_("passphrase"), _("no terminal to ask on; use --passphrase-file FILE or -"))
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass(_("Repeat: ")) != first:
        raise InvalidInput(_("passphrase"), _("the two entries differ"))
    return first


def open_vault(args: argparse.Namespace, *, unlock: bool = True) -> Vault:
    """Open the vault named by the arguments; unlock it unless ``unlock`` is False."""
    from vault.service import Vault  # lazily: `--help` and parsing never load the store (issue 15)

    vault = Vault(vault_path(args), config=config(args))
    if unlock:
        try:
            vault.unlock(read_secret(getattr(args, "passphrase_file", None), _("Passphrase: ")))
        except BaseException:
            vault.close()
            raise
        if vault.kdf_below_floor:
            print(
                _(
                    "sealbook: note: this vault's key derivation ({kdf}) is below the safe floor; "
                    "raise it with `sealbook passwd --kdf-memory-mib 64 --kdf-iterations 3 --kdf-parallelism 4` "
                    "or more."
                ).format(kdf=vault.kdf.describe()),
                file=sys.stderr,
            )
    return vault


# --- output --------------------------------------------------------------------


def to_jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: to_jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, bytes):  # a record's causal history (vault.causal): hex, as in the export
        return value.hex()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def print_json(value: Any, out: TextIO | None = None) -> None:
    text = json.dumps(to_jsonable(value), ensure_ascii=False, indent=2)
    (out or sys.stdout).write(_json_for_terminal(text) + "\n")


def _json_for_terminal(text: str) -> str:
    """JSON text with every hidden character written as a \\u escape: the same data.

    ``json`` escapes C0 controls itself, but with ``ensure_ascii=False`` it writes
    DEL, C1 controls (0x9b is a CSI) and bidi overrides raw.  Outside strings JSON
    has only ASCII punctuation and whitespace, so these sit inside strings, where
    a \\u escape stands for the same character.
    """
    if text.isascii() and "\x7f" not in text:
        return text  # json.dumps already escaped every C0 control
    # str.isprintable is False for every hidden character (categories C* and Z* but the space),
    # so only lines it rejects are looked at one character at a time (a 20k-contact report:
    # 3 million is_hidden calls before, none now).
    return "\n".join(line if line.isprintable() else _escape_hidden(line) for line in text.split("\n"))


def _escape_hidden(line: str) -> str:
    out: list[str] = []
    for char in line:
        if char != " " and is_hidden(char):
            units = char.encode("utf-16-be", "surrogatepass")
            out.extend(f"\\u{int.from_bytes(units[i : i + 2], 'big'):04x}" for i in range(0, len(units), 2))
        else:
            out.append(char)
    return "".join(out)


def contact_json(c: Contact) -> dict[str, Any]:
    """A contact for `--json` output, with the article of its legal basis spelled out."""
    data: dict[str, Any] = to_jsonable(c)
    data.pop("history", None)  # the signed version vector (vault.causal): sync bookkeeping, bytes, not a field
    data["basis_article"] = c.basis.article
    return data


def safe(text: str) -> str:
    """Stored text (a name, a note) for a terminal: hidden characters escaped, line breaks kept."""
    return printable(text, None, multiline=True)


def plain(value: object, limit: int | None = 200) -> str:
    """One value from the vault file or a server (a record id, an audit field, an
    error that names a record) as one printable line, cut to ``limit`` characters."""
    return printable(str(value), limit)


def open_tui(args: argparse.Namespace) -> int:
    """`sealbook` with no command: the Textual app on the chosen vault."""
    from tui.app import run_app

    if not os.isatty(sys.stdout.fileno()) and os.environ.get("SEALBOOK_FORCE_TUI") != "1":
        print(_("sealbook: the terminal app needs a terminal; see `sealbook --help`"), file=sys.stderr)
        return EXIT_USAGE
    return run_app(vault_path(args), config(args), config_path(args))


# --- confirmation ------------------------------------------------------------------


def is_yes(answer: str) -> bool:
    """A "yes" at a [y/N] prompt: y/yes, and j/ja in German (either is taken in any language)."""
    return answer.strip().lower() in {"y", "yes", "j", "ja", _("y"), _("yes")}


def yes_no_hint() -> str:
    """The [y/N] after a question, in the current language ([j/N] in German)."""
    return _("[y/N]")

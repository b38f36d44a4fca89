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
from typing import Any, TextIO

from vault.config import Config, default_config_path, default_vault_path, load_config
from vault.errors import (
    ContactNotFound,
    InvalidInput,
    KdfParametersRefused,
    NotAVault,
    VaultBusy,
    VaultDamaged,
    VaultError,
    VaultNotFound,
    WrongPassphrase,
)
from vault.hardening import harden_process
from vault.service import Vault

EXIT_OK = 0
EXIT_ERROR = 1  # any other refused operation (invalid input, exists, ...)
EXIT_USAGE = 2  # argparse's own code for a bad command line
EXIT_WRONG_PASSPHRASE = 3
EXIT_DAMAGED = 4  # damaged, tampered or foreign file; refused KDF parameters
EXIT_NOT_FOUND = 5  # no vault at the path, or no such contact
EXIT_BUSY = 6  # another process holds the vault; try again later

EXIT_CODES_HELP = """exit codes:
  0  success
  1  refused (invalid input, vault exists, ...); the message says why
  2  usage error (bad command line)
  3  wrong passphrase
  4  vault damaged, tampered with, or not a sealbook vault
  5  not found (no vault at the path, or no such contact)
  6  busy: another sealbook process is working on the vault; try later
"""


def exit_code_for(error: VaultError) -> int:
    if isinstance(error, WrongPassphrase):
        return EXIT_WRONG_PASSPHRASE
    if isinstance(error, (VaultDamaged, NotAVault, KdfParametersRefused)):
        return EXIT_DAMAGED
    if isinstance(error, (VaultNotFound, ContactNotFound)):
        return EXIT_NOT_FOUND
    if isinstance(error, VaultBusy):
        return EXIT_BUSY
    return EXIT_ERROR


def harden() -> None:
    harden_process()


def run_guarded(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command; a VaultError becomes its message on stderr and its exit code."""
    try:
        return handler(args)
    except VaultError as error:
        print(f"sealbook: {error}", file=sys.stderr)
        return exit_code_for(error)
    except KeyboardInterrupt:
        print("sealbook: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130


# --- options ----------------------------------------------------------------


def add_vault_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--vault",
        type=Path,
        default=argparse.SUPPRESS,
        help="vault file (default: $SEALBOOK_VAULT or the platform data folder)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,
        help="config file (default: $SEALBOOK_CONFIG or the platform config folder)",
    )


def add_passphrase_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--passphrase-file",
        metavar="FILE",
        help="read the passphrase from the first line of FILE ('-' = standard input)",
    )


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def command(
    subparsers: Any, name: str, handler: Callable[[argparse.Namespace], int], help_text: str
) -> argparse.ArgumentParser:
    """A subcommand with --vault/--config and its handler attached."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_vault_option(parser)
    parser.set_defaults(handler=handler)
    return parser


def vault_path(args: argparse.Namespace) -> Path:
    path: Path | None = getattr(args, "vault", None)
    return path.expanduser() if path else default_vault_path()


def config(args: argparse.Namespace) -> Config:
    path: Path | None = getattr(args, "config", None)
    return load_config(path or default_config_path())


# --- passphrases ---------------------------------------------------------------

_stdin_lines: list[str] | None = None


def _next_stdin_line() -> str:
    """Lines of standard input, read once (so `-` can serve two passphrases)."""
    global _stdin_lines
    if _stdin_lines is None:
        _stdin_lines = sys.stdin.read().splitlines()
    if not _stdin_lines:
        raise InvalidInput("passphrase", "standard input ended before a passphrase was read")
    return _stdin_lines.pop(0)


def read_secret(source: str | None, prompt: str, *, confirm: bool = False) -> str:
    """A passphrase from FILE, '-' (stdin) or, when None, the terminal (no echo)."""
    if source == "-":
        return _next_stdin_line()
    if source:
        try:
            with open(source, encoding="utf-8") as handle:
                line = handle.readline()
        except OSError as exc:
            raise InvalidInput("passphrase file", exc.strerror or "cannot be read") from None
        except UnicodeDecodeError:
            raise InvalidInput("passphrase file", "is not UTF-8 text") from None
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InvalidInput("passphrase", "no terminal to ask on; use --passphrase-file FILE or -")
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("Repeat: ") != first:
        raise InvalidInput("passphrase", "the two entries differ")
    return first


def open_vault(args: argparse.Namespace, *, unlock: bool = True) -> Vault:
    """Open the vault named by the arguments; unlock it unless ``unlock`` is False."""
    vault = Vault(vault_path(args), config=config(args))
    if unlock:
        try:
            vault.unlock(read_secret(getattr(args, "passphrase_file", None), "Passphrase: "))
        except BaseException:
            vault.close()
            raise
        if vault.kdf_below_floor:
            print(
                f"sealbook: note: this vault's key derivation ({vault.kdf.describe()}) is below the safe floor; "
                "raise it with `sealbook passwd --kdf-memory-mib 64 --kdf-iterations 3 --kdf-parallelism 4` "
                "or more.",
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
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def print_json(value: Any, out: TextIO | None = None) -> None:
    json.dump(to_jsonable(value), out or sys.stdout, ensure_ascii=False, indent=2)
    (out or sys.stdout).write("\n")


def safe(text: str) -> str:
    """Printable form of stored text for a terminal: control characters escaped."""
    return "".join(ch if ch.isprintable() or ch == "\n" else f"\\x{ord(ch):02x}" for ch in text)


def open_tui(args: argparse.Namespace) -> int:
    """`sealbook` with no command: the Textual app on the chosen vault."""
    from tui.app import run_app

    if not os.isatty(sys.stdout.fileno()) and os.environ.get("SEALBOOK_FORCE_TUI") != "1":
        print("sealbook: the terminal app needs a terminal; see `sealbook --help`", file=sys.stderr)
        return EXIT_USAGE
    return run_app(vault_path(args), config(args))

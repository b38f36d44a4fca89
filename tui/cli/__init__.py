"""The `sealbook` command line.  Subcommands live in sibling modules grouped
like the core's parts (keys, the record book, data-protection policy, the
audit log, exchange, purge, sync), each with a ``register(subparsers)``
function; they share only ``common``.  With no subcommand the TUI opens."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tui.cli import audit, book, common, exchange, keys, policy, purge, sync

# The order of `sealbook --help`: grouped by part.
COMMAND_MODULES = [keys, book, policy, audit, exchange, purge, sync]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sealbook",
        description="Encrypted, GDPR-aware address book. With no command, opens the terminal app.",
        epilog=common.EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common.add_vault_option(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    for number, argument in enumerate(arguments, 1):
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError:  # undecodable bytes arrive as lone surrogates
            print(f"sealbook: argument {number} is not valid UTF-8 text", file=sys.stderr)
            return common.EXIT_USAGE
    parser = build_parser()
    args = parser.parse_args(arguments)
    common.harden()
    handler = getattr(args, "handler", None)
    if handler is None:
        return common.run_guarded(common.open_tui, args)
    return common.run_guarded(handler, args)


if __name__ == "__main__":
    sys.exit(main())

"""The `sealbook` command line.  Subcommands live in sibling modules, each with
a ``register(subparsers)`` function; with no subcommand the TUI opens."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tui.cli import common, core, exchange, purge, sync

COMMAND_MODULES = [core, exchange, purge, sync]


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
    parser = build_parser()
    args = parser.parse_args(argv)
    common.harden()
    handler = getattr(args, "handler", None)
    if handler is None:
        return common.run_guarded(common.open_tui, args)
    return common.run_guarded(handler, args)


if __name__ == "__main__":
    sys.exit(main())

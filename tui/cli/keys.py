"""The vault's keys: `sealbook init` (create a vault) and `sealbook passwd`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tui.cli import common
from vault.i18n import _


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("not a whole number: {text!r}").format(text=text)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(_("must be positive"))
    return value


def register(subparsers: Any) -> None:
    """Add `init` and `passwd`."""
    p = common.command(subparsers, "init", cmd_init, _("create a new vault"))
    common.add_passphrase_option(p)
    _add_kdf_options(p)

    p = common.command(
        subparsers, "passwd", cmd_passwd, _("change the passphrase (rewraps the key; --rotate replaces every key)")
    )
    common.add_passphrase_option(p)
    p.add_argument(
        "--rotate",
        action="store_true",
        help=_(
            "replace every key and re-seal every record, so old copies and the old passphrase open nothing "
            "added or changed afterwards (other devices must clone again)"
        ),
    )
    p.add_argument(
        "--new-passphrase-file",
        metavar="FILE",
        help=_("read the new passphrase from FILE ('-' = the next line of standard input)"),
    )
    _add_kdf_options(p)


def _add_kdf_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kdf-memory-mib", type=_positive, metavar="MIB", help=_("Argon2id memory (floor 64)"))
    p.add_argument("--kdf-iterations", type=_positive, metavar="N", help=_("Argon2id passes (floor 3)"))
    p.add_argument("--kdf-parallelism", type=_positive, metavar="N", help=_("Argon2id lanes (floor 4)"))
    p.add_argument(
        "--allow-weak-kdf",
        action="store_true",
        help=_("accept settings below the floor (for tests and benchmarks only)"),
    )


def _kdf_from_args(args: argparse.Namespace, base: Any) -> Any:
    from vault.service import KdfParams

    if args.kdf_memory_mib is None and args.kdf_iterations is None and args.kdf_parallelism is None:
        return None
    return KdfParams(
        t=args.kdf_iterations or base.t,
        m_kib=(args.kdf_memory_mib * 1024) if args.kdf_memory_mib else base.m_kib,
        p=args.kdf_parallelism or base.p,
    )


def _warn_weak(kdf: Any) -> None:
    from vault.service import kdf_is_below_floor

    if kdf is not None and kdf_is_below_floor(kdf):
        print(
            _(
                "sealbook: WARNING: key derivation {kdf} is below the safe floor (t=3, 64 MiB, p=4); "
                "use this only for tests."
            ).format(kdf=kdf.describe()),
            file=sys.stderr,
        )


def cmd_init(args: argparse.Namespace) -> int:
    from vault.service import KDF_DEFAULT

    kdf = _kdf_from_args(args, KDF_DEFAULT)
    path = common.vault_path(args)
    passphrase = common.read_secret(args.passphrase_file, _("New passphrase: "), confirm=True)
    if kdf is None:
        print(_("Measuring this machine to set the key-derivation cost (about 1 s)..."), file=sys.stderr)
    from vault.service import Vault

    vault = Vault.create(path, passphrase, kdf=kdf, allow_weak_kdf=args.allow_weak_kdf, config=common.config(args))
    try:
        _warn_weak(vault.kdf)
        print(_("Created vault {path}").format(path=path))
        print(_("Key derivation: Argon2id {kdf}").format(kdf=vault.kdf.describe()))
        print(_("The passphrase cannot be recovered: without it, the contacts are lost."))
    finally:
        vault.close()
    return common.EXIT_OK


def cmd_passwd(args: argparse.Namespace) -> int:
    with common.open_vault(args, unlock=False) as vault:
        kdf = _kdf_from_args(args, vault.kdf)
        old = common.read_secret(args.passphrase_file, _("Current passphrase: "))
        new = common.read_secret(args.new_passphrase_file, _("New passphrase: "), confirm=True)
        vault.change_passphrase(old, new, kdf=kdf, allow_weak_kdf=args.allow_weak_kdf, rotate=args.rotate)
        _warn_weak(kdf)
        if args.rotate:
            print(_("Passphrase changed and every key replaced; every record was re-sealed."))
            print(_("Other devices must run `sealbook sync clone` again with the new passphrase."))
        else:
            print(_("Passphrase changed."))
    return common.EXIT_OK

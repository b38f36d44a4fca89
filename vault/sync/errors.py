"""Errors of the sync feature.  Each docstring is the sentence the owner reads.

They subclass the core errors where the meaning matches (a damaged blob is
:class:`VaultDamaged`, so the CLI's exit code for damage applies).  Messages
carry at most a file name, a host or a record id: never a secret, never why a
cryptographic check failed.
"""

from __future__ import annotations

from vault.errors import NotAVault, StorageFull, VaultBusy, VaultDamaged, VaultError
from vault.i18n import N_


class SyncError(VaultError):
    """Sync failed; the local vault and the previous remote copy are unchanged."""

    sentence = N_("Sync failed; the local vault and the previous remote copy are unchanged.")


class SyncNotConfigured(SyncError):
    """Sync is not set up for this vault; run `sealbook sync setup` first."""

    sentence = N_("Sync is not set up for this vault; run `sealbook sync setup` first.")


class NoRemoteCopy(SyncError):
    """There is no copy of the vault on the sync target yet; push one first."""

    sentence = N_("There is no copy of the vault on the sync target yet; push one first.")


class BlobDamaged(VaultDamaged):
    """The remote copy is damaged, truncated or was tampered with; nothing local was changed."""

    sentence = N_("The remote copy is damaged, truncated or was tampered with; nothing local was changed.")


class ForeignBlob(NotAVault):
    """The remote copy belongs to another vault or is not a sealbook blob; nothing local was changed."""

    sentence = N_("The remote copy belongs to another vault or is not a sealbook blob; nothing local was changed.")


class UnsupportedBlob(NotAVault):
    """The remote copy was written by a newer sealbook version; update sealbook to read it."""

    sentence = N_("The remote copy was written by a newer sealbook version; update sealbook to read it.")


class RollbackRefused(SyncError):
    """The remote copy is older than one this device already saw (a rollback or replay); nothing local was changed."""

    sentence = N_(
        "The remote copy is older than one this device already saw (a rollback or replay); nothing local was changed."
    )


class ForkRefused(SyncError):
    """The remote copy has the same version number as one this device saw but other content that does not authenticate; nothing local was changed."""  # noqa: E501

    sentence = N_(
        "The remote copy has the same version number as one this device saw but other content that does not authenticate; nothing local was changed."  # noqa: E501
    )


class RemoteNewer(SyncError):
    """The remote copy has changes this device has not pulled yet; unlock the vault and pull first."""

    sentence = N_("The remote copy has changes this device has not pulled yet; unlock the vault and pull first.")


class RemoteChanged(SyncError):
    """Another device pushed while this one was writing; pull and push again."""

    sentence = N_("Another device pushed while this one was writing; pull and push again.")


class RemoteStorageFull(StorageFull):
    """The sync server's storage is full; free space there and push again (the previous remote copy is intact)."""

    sentence = N_(
        "The sync server's storage is full; free space there and push again (the previous remote copy is intact)."
    )


class RemoteAuthFailed(SyncError):
    """The sync server refused the credentials; check the user name and app password (`sealbook sync setup`)."""

    sentence = N_(
        "The sync server refused the credentials; check the user name and app password (`sealbook sync setup`)."
    )


class RemoteUnavailable(VaultBusy):
    """The sync server is busy or failing; try again later (the previous remote copy is intact)."""

    sentence = N_("The sync server is busy or failing; try again later (the previous remote copy is intact).")


class RemoteLocked(RemoteUnavailable):
    """Another device is writing to the sync target right now; try again in a minute (the remote copy is intact)."""

    sentence = N_(
        "Another device is writing to the sync target right now; try again in a minute (the remote copy is intact)."
    )


class RemoteUnreachable(SyncError):
    """The sync server cannot be reached; check the address and the network."""

    sentence = N_("The sync server cannot be reached; check the address and the network.")


class RemoteRefused(SyncError):
    """The sync server refused the request; check the target address and permissions."""

    sentence = N_("The sync server refused the request; check the target address and permissions.")


class RemoteVerifyFailed(SyncError):
    """The uploaded copy differs from what was sent, so the push was not counted; try again."""

    sentence = N_("The uploaded copy differs from what was sent, so the push was not counted; try again.")


class HostKeyUnknown(SyncError):
    """The SFTP server's host key is not in known_hosts; check its fingerprint and add it (it is never accepted silently)."""  # noqa: E501

    sentence = N_(
        "The SFTP server's host key is not in known_hosts; check its fingerprint and add it (it is never accepted silently)."  # noqa: E501
    )


class HostKeyMismatch(SyncError):
    """The SFTP server's host key differs from the one in known_hosts (possible interception); refusing to connect."""

    sentence = N_(
        "The SFTP server's host key differs from the one in known_hosts (possible interception); refusing to connect."
    )


class CredentialsTooOpen(SyncError):
    """The sync credentials file can be read by other users; run `chmod 600` on it."""

    sentence = N_("The sync credentials file can be read by other users; run `chmod 600` on it.")


class CredentialsMissing(SyncError):
    """No stored password for the sync target; run `sealbook sync setup` again."""

    sentence = N_("No stored password for the sync target; run `sealbook sync setup` again.")


class SyncStateDamaged(SyncError):
    """This device's sync state file is damaged; refusing to sync until it is repaired or removed."""

    sentence = N_("This device's sync state file is damaged; refusing to sync until it is repaired or removed.")


class PushKeyMissing(SyncError):
    """This device cannot push without the passphrase yet; unlock the vault once (any command that asks for the passphrase) and try again."""  # noqa: E501

    sentence = N_(
        "This device cannot push without the passphrase yet; unlock the vault once (any command that asks for the passphrase) and try again."  # noqa: E501
    )

"""Encrypted sync of one blob to a local folder, WebDAV (Nextcloud) or SFTP (issue 6).

Modules:

* ``blob``      the format: plaintext key header + secretstream body of a
                zlib-compressed ``VACUUM INTO`` snapshot (see its docstring);
                pinned by tests/data/sync/blob-v1.*; the first chunk carries
                the push key's MAC, without which no pull or clone accepts it.
* ``snapshot``  VACUUM INTO a private temp dir (with the sealed index cache,
                which a clone's first unlock reads instead of opening every
                record); a read-only, validated look into a pulled snapshot
                that leaves out rows equal to this device's own.
* ``merge``     the pure merge plan (authenticate, newest meta_version wins, a
                verified tombstone beats every version up to its own, an
                unverifiable one deletes nothing; omission deletes nothing).
* ``engine``    push / pull / status behind ``Vault.sync_*``; the rollback
                check against ``state`` (a lower counter is refused; an honest
                fork, same counter and other content that authenticates, is
                merged and pushed as max + 1).
* ``parts``     what the jobs receive (``SyncParts``), the target settings, the push key.
* ``clone``     a new device's vault from the blob and the passphrase.
* ``content``   a hash of what a push would send, so an unchanged vault sends nothing.
* ``local``, ``webdav``, ``sftp``: the backends (protocol in ``remote``).
* ``state``     per-device high-water mark (0600 JSON in the data folder).
* ``settings``  target settings and the password (OS keyring or 0600 file).
* ``errors``    what the owner reads.

What the remote still keeps: Nextcloud's versions app keeps old versions of
changed files (hourly for a day, daily for 30 days, then weekly) and its trash
bin keeps deleted ones.  sealbook writes a new generation file per push and
deletes the previous one, so old generations (with records purged since) land
in the trash bin until it expires or is emptied; ask the administrator to set
``versions_retention_obligation``/``trashbin_retention_obligation`` or empty
the trash bin after a purge.  Everything there is ciphertext under the sync
key, but a purged record is only gone from the server once those copies expire.
"""

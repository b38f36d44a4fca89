"""The sync blob: one file holding an encrypted snapshot of the vault.

Layout (format version 1, all integers little-endian)::

    MAGIC (8 bytes "SEALSYNC") | version (1 byte) | header length L (u32) | header (L bytes)
        | checksum (16 bytes: BLAKE2b-128 of everything before it)
    then chunks: ciphertext length n (u32) | ciphertext (n bytes), until TAG_FINAL

The header is a PAE encoding (vault.crypto.pae) of, in order: vault_id, KDF
t, m (KiB), p, KDF salt, wrapped root key, sync public key, wrapped sync secret
key, verify key, the file key sealed to the sync public key (crypto_box_seal),
the secretstream header.  The body is a libsodium secretstream
(XChaCha20-Poly1305) under the file key; every chunk's additional data is the
BLAKE2b-256 hash of the bytes before the first chunk (magic through checksum).
The unkeyed checksum only tells accidental damage ("damaged") apart from a
wrong passphrase, like the vault's own key header; authenticity comes from the
wrapped root key (its AD covers the KDF parameters and keys) and the stream.
The first chunk is JSON ``{v, counter, device, previous, created,
snapshot_bytes, compression}``; the following chunks are the zlib-compressed
``VACUUM INTO`` snapshot, the last one tagged FINAL.  Trailing bytes, a missing
FINAL tag, or any chunk failing authentication reject the whole blob.

Pushing needs only public values (the sync public key and the wrapped keys,
copied as they are); opening needs the sync secret key, which only the
passphrase (KEK -> root key -> wrap key) unlocks.
"""

from __future__ import annotations

import json
import os
import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from vault import crypto
from vault.i18n import _
from vault.sync import deflate
from vault.sync.errors import BlobDamaged, ForeignBlob, UnsupportedBlob

MAGIC = b"SEALSYNC"
VERSION = 1
CHUNK_BYTES = 64 * 1024
MAX_HEADER_BYTES = 8192
MAX_CHUNK_CIPHERTEXT = CHUNK_BYTES + crypto.STREAM_ABYTES
MAX_SNAPSHOT_BYTES = 8 * 1024**3  # a decompression bomb stops here
_PREFIX = struct.Struct("<8sBI")
_LEN = struct.Struct("<I")
_CHECKSUM = 16
_DEVICE = re.compile(r"^[0-9A-Za-z_-]{1,32}$")

Progress = Callable[[str, int, int], None]


def _no_progress(_stage: str, _done: int, _total: int) -> None:
    return None


class KeyHeaderSource(Protocol):
    """What the blob copies from ``vault_meta`` (an ORM row satisfies it)."""

    vault_id: bytes
    kdf_t: int
    kdf_m_kib: int
    kdf_p: int
    kdf_salt: bytes
    wrapped_root_key: bytes
    sync_public_key: bytes
    wrapped_sync_secret_key: bytes
    verify_key: bytes


@dataclass(frozen=True)
class BlobHeader:
    vault_id: bytes
    kdf_t: int
    kdf_m_kib: int
    kdf_p: int
    kdf_salt: bytes
    wrapped_root_key: bytes
    sync_public_key: bytes
    wrapped_sync_secret_key: bytes
    verify_key: bytes
    sealed_file_key: bytes
    stream_header: bytes

    @property
    def kdf(self) -> crypto.KdfParams:
        return crypto.KdfParams(self.kdf_t, self.kdf_m_kib, self.kdf_p)

    def encode(self) -> bytes:
        body = crypto.pae(
            self.vault_id,
            self.kdf_t,
            self.kdf_m_kib,
            self.kdf_p,
            self.kdf_salt,
            self.wrapped_root_key,
            self.sync_public_key,
            self.wrapped_sync_secret_key,
            self.verify_key,
            self.sealed_file_key,
            self.stream_header,
        )
        head = _PREFIX.pack(MAGIC, VERSION, len(body)) + body
        return head + crypto.checksum(head)


@dataclass(frozen=True)
class BlobInfo:
    """The authenticated first chunk: who wrote the blob, when, and its place in the chain."""

    counter: int
    device: str
    previous: bytes  # BLAKE2b-256 of the blob this one replaces (zeros for the first)
    created: str  # ISO 8601 UTC
    snapshot_bytes: int
    auth: bytes = b""
    """Version 2: the push key's MAC over the header and the fields above (:func:`push_auth`)."""

    def encode(self) -> bytes:
        fields: dict[str, object] = {
            "v": 2 if self.auth else 1,
            "counter": self.counter,
            "device": self.device,
            "previous": self.previous.hex(),
            "created": self.created,
            "snapshot_bytes": self.snapshot_bytes,
            "compression": "zlib",
        }
        if self.auth:
            fields["auth"] = self.auth.hex()
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("ascii")

    @classmethod
    def decode(cls, raw: bytes) -> BlobInfo:
        try:
            d = json.loads(raw.decode("ascii"))
            info = cls(
                counter=d["counter"],
                device=d["device"],
                previous=bytes.fromhex(d["previous"]),
                created=d["created"],
                snapshot_bytes=d["snapshot_bytes"],
                auth=bytes.fromhex(d["auth"]) if d.get("v") == 2 else b"",
            )
            ok = (
                d.get("v") in (1, 2)
                and (d.get("v") == 1 or len(info.auth) == 32)
                and d.get("compression") == "zlib"
                and type(info.counter) is int
                and 1 <= info.counter < 2**62
                and isinstance(info.device, str)
                and _DEVICE.match(info.device) is not None
                and len(info.previous) == 32
                and isinstance(info.created, str)
                and len(info.created) <= 40
                and type(info.snapshot_bytes) is int
                and 0 < info.snapshot_bytes <= MAX_SNAPSHOT_BYTES
            )
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, AttributeError):
            ok = False
        if not ok:
            raise BlobDamaged(_("remote copy"))
        return info


def push_auth(push_key: bytes | bytearray, header: bytes, info: BlobInfo) -> bytes:
    """The MAC that proves a blob was pushed by a device of this vault (issue 10).

    Anyone holding the public sync key can build a blob; only a device that
    holds the push key (derived from the root key; kept 0600 in each device's
    state folder for passphrase-less pushes) can authenticate one.  It covers
    the header (which fixes the file key, hence every chunk) and the chain fields.
    """
    return crypto.mac(push_key, _push_fields(header, info))


def _push_fields(header: bytes, info: BlobInfo) -> bytes:
    return crypto.pae(
        b"sealbook-push-v1", header, info.counter, info.device, info.previous, info.created, info.snapshot_bytes
    )


def blob_hash(blob: bytes) -> bytes:
    """The blob's identity in the chain (BLAKE2b-256 over every byte)."""
    return crypto.digest(blob)


def _unpae(body: bytes, kinds: str) -> list[Any]:
    """Inverse of crypto.pae for a known list of kinds ('b' bytes, 'i' int)."""
    try:
        (count,) = struct.unpack_from("<Q", body, 0)
        if count != len(kinds):
            raise ValueError
        offset, out = 8, []
        for kind in kinds:
            (length,) = struct.unpack_from("<Q", body, offset)
            offset += 8
            if length > len(body) - offset:
                raise ValueError
            part = body[offset : offset + length]
            offset += length
            if kind == "i":
                if length != 8:
                    raise ValueError
                out.append(struct.unpack("<q", part)[0])
            else:
                out.append(bytes(part))
        if offset != len(body):
            raise ValueError
        return out
    except (struct.error, ValueError):
        raise BlobDamaged(_("remote copy header")) from None


_HEADER_KINDS = "biiibbbbbbb"


def read_header(blob: bytes) -> tuple[BlobHeader, int]:
    """Parse the plaintext header; returns it and the offset of the first chunk."""
    if len(blob) < _PREFIX.size or blob[:8] != MAGIC:
        raise ForeignBlob(_("remote copy"))
    _magic, version, length = _PREFIX.unpack_from(blob, 0)
    if version != VERSION:
        raise UnsupportedBlob(_("blob format {version}").format(version=version))
    if length > MAX_HEADER_BYTES or _PREFIX.size + length > len(blob):
        raise BlobDamaged(_("remote copy header"))
    end = _PREFIX.size + length
    if end + _CHECKSUM > len(blob) or crypto.checksum(blob[:end]) != blob[end : end + _CHECKSUM]:
        raise BlobDamaged(_("remote copy header"))
    fields = _unpae(blob[_PREFIX.size : end], _HEADER_KINDS)
    header = BlobHeader(*fields)
    sizes_ok = (
        len(header.vault_id) == 16
        and len(header.kdf_salt) == crypto.SALT_BYTES
        and len(header.sync_public_key) == 32
        and len(header.verify_key) == 32
        and len(header.sealed_file_key) == crypto.KEY_BYTES + crypto.SEALED_BOX_OVERHEAD
        and len(header.stream_header) == crypto.STREAM_HEADER_BYTES
    )
    if not sizes_ok:
        raise BlobDamaged(_("remote copy header"))
    return header, end + _CHECKSUM


def header_tag(blob_start: bytes) -> str | None:
    """A cheap version tag from the first bytes of a blob (the header's hash).

    The header holds a fresh sealed file key and stream header, so every blob
    has a different one; local and SFTP targets use it as their version tag.
    """
    if len(blob_start) < _PREFIX.size or blob_start[:8] != MAGIC:
        return "raw:" + crypto.digest(blob_start[:4096]).hex() if blob_start else None
    length = _PREFIX.unpack_from(blob_start, 0)[2]
    end = _PREFIX.size + min(length, MAX_HEADER_BYTES) + _CHECKSUM
    return "hdr:" + crypto.digest(blob_start[:end]).hex()


HEADER_TAG_READ = _PREFIX.size + MAX_HEADER_BYTES + _CHECKSUM


# --- writing ---------------------------------------------------------------------


def seal_snapshot(
    keys: KeyHeaderSource,
    snapshot: Path,
    info: BlobInfo,
    *,
    progress: Progress | None = None,
    push_key: bytes | bytearray | None = None,
    _file_key: bytes | None = None,
    _stream_header: bytes | None = None,
    _ephemeral: bytes | None = None,
) -> bytes:
    """Build a blob from a snapshot file.  Needs only public key material, and the
    push key to authenticate it (every push passes one; :func:`open_blob` requires it).

    The underscore arguments fix the randomness for known-answer vectors.
    """
    progress = progress or _no_progress
    file_key = _file_key if _file_key is not None else crypto.new_stream_key()
    sealed_key = (
        crypto.seal_to_with_ephemeral(keys.sync_public_key, file_key, _ephemeral)
        if _ephemeral is not None
        else crypto.seal_to(keys.sync_public_key, file_key)
    )
    sealer = crypto.StreamSealer(file_key, _stream_header)
    header = BlobHeader(
        vault_id=keys.vault_id,
        kdf_t=keys.kdf_t,
        kdf_m_kib=keys.kdf_m_kib,
        kdf_p=keys.kdf_p,
        kdf_salt=keys.kdf_salt,
        wrapped_root_key=keys.wrapped_root_key,
        sync_public_key=keys.sync_public_key,
        wrapped_sync_secret_key=keys.wrapped_sync_secret_key,
        verify_key=keys.verify_key,
        sealed_file_key=sealed_key,
        stream_header=sealer.header,
    ).encode()
    ad = crypto.digest(header)
    total = snapshot.stat().st_size
    with snapshot.open("rb") as handle:
        compressed = deflate.compress_file(handle, lambda done: progress("encrypt", done, total))
    if push_key is not None:
        info = replace(info, auth=push_auth(push_key, header, info))
    out = [header]
    first = sealer.push(info.encode(), ad)
    out += [_LEN.pack(len(first)), first]
    view = memoryview(compressed)
    starts = range(0, len(view), CHUNK_BYTES)
    last = len(starts) - 1
    for index, start in enumerate(starts):
        ciphertext = sealer.push(bytes(view[start : start + CHUNK_BYTES]), ad, final=index == last)
        out += [_LEN.pack(len(ciphertext)), ciphertext]
    return b"".join(out)


# --- reading ---------------------------------------------------------------------


def open_file_key(header: BlobHeader, sync_secret: bytes | bytearray) -> bytes:
    try:
        file_key = crypto.open_sealed_box(sync_secret, header.sealed_file_key)
    except crypto.SealBroken:
        raise BlobDamaged(_("remote copy")) from None
    if len(file_key) != crypto.KEY_BYTES:
        raise BlobDamaged(_("remote copy"))
    return file_key


def open_blob(
    blob: bytes,
    sync_secret: bytes | bytearray,
    out_path: Path,
    *,
    progress: Progress | None = None,
    push_key: bytes | bytearray | None = None,
    durable: bool = True,
) -> tuple[BlobHeader, BlobInfo]:
    """Authenticate and decrypt a blob; the snapshot goes to ``out_path`` (created 0600),
    flushed to the disk unless not ``durable`` (a pull's snapshot, read once and deleted).

    With ``push_key`` (every pull and clone) the blob must carry that key's MAC
    (:func:`push_auth`), checked on the first chunk before any snapshot byte is
    written.  Every failure is :class:`BlobDamaged` (or Foreign/Unsupported for
    the header); on failure ``out_path`` is removed.
    """
    progress = progress or _no_progress
    header, offset = read_header(blob)
    ad = crypto.digest(blob[:offset])
    opener = crypto.StreamOpener(open_file_key(header, sync_secret), header.stream_header)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(out_path, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            check = None if push_key is None else _auth_check(push_key, blob[:offset])
            info, written = _pull_chunks(blob, offset, opener, ad, out, progress, check)
            out.flush()
            if durable:
                os.fsync(out.fileno())
        if written != info.snapshot_bytes:
            raise BlobDamaged(_("remote copy"))
    except BaseException:
        out_path.unlink(missing_ok=True)
        raise
    return header, info


def _auth_check(push_key: bytes | bytearray, header: bytes) -> Callable[[BlobInfo], None]:
    def check(info: BlobInfo) -> None:
        if not info.auth or not crypto.mac_ok(push_key, _push_fields(header, info), info.auth):
            raise BlobDamaged(_("remote copy: not pushed by a device of this vault"))

    return check


def _pull_chunks(
    blob: bytes,
    offset: int,
    opener: crypto.StreamOpener,
    ad: bytes,
    out: Any,
    progress: Progress,
    check: Callable[[BlobInfo], None] | None,
) -> tuple[BlobInfo, int]:
    info: BlobInfo | None = None
    decompressor = zlib.decompressobj()
    written = 0
    total = len(blob)
    final = False
    view = memoryview(blob)
    while offset < total:
        if final or offset + _LEN.size > total:
            raise BlobDamaged(_("remote copy"))  # bytes after FINAL, or a torn length
        (length,) = _LEN.unpack_from(view, offset)
        offset += _LEN.size
        if not crypto.STREAM_ABYTES <= length <= MAX_CHUNK_CIPHERTEXT or offset + length > total:
            raise BlobDamaged(_("remote copy"))
        try:
            plain, final = opener.pull(bytes(view[offset : offset + length]), ad)
        except crypto.SealBroken:
            raise BlobDamaged(_("remote copy")) from None
        offset += length
        if info is None:
            if final:
                raise BlobDamaged(_("remote copy"))
            info = BlobInfo.decode(plain)
            if check is not None:
                check(info)
            continue
        try:
            data = decompressor.decompress(plain, 1024 * 1024)
            while True:
                written += len(data)
                if written > info.snapshot_bytes:
                    raise BlobDamaged(_("remote copy"))
                out.write(data)
                if not decompressor.unconsumed_tail:
                    break
                data = decompressor.decompress(decompressor.unconsumed_tail, 1024 * 1024)
        except zlib.error:
            raise BlobDamaged(_("remote copy")) from None
        progress("decrypt", offset, total)
    if not final or info is None or not decompressor.eof or decompressor.unused_data:
        raise BlobDamaged(_("remote copy"))  # truncated: no FINAL tag
    return info, written

"""All cryptography of sealbook: the only module that imports nacl or argon2.

Primitives (no home-made ones):

* Argon2id (argon2-cffi ``hash_secret_raw``) turns the NFC-normalised
  passphrase into a key-encryption key (KEK).
* XChaCha20-Poly1305 (libsodium AEAD) wraps keys and seals records; the
  additional data is a length-prefixed encoding (PAE) of the context, so a
  ciphertext moved to another row, table or vault does not open.
* BLAKE2b keyed with the root key derives one key per purpose; this is
  byte-identical to libsodium's ``crypto_kdf_derive_from_key``, which PyNaCl
  does not bind.
* Ed25519 signs the plaintext retention metadata (so the unattended purge can
  check it without the passphrase); X25519 sealed boxes and secretstream are
  used by the sync blob.

Every integrity failure raises :class:`SealBroken` with no detail (no
oracle); callers turn it into the user-facing error that names *what* broke.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import argon2.low_level
import nacl.bindings as sodium
import nacl.exceptions
import nacl.public
import nacl.signing

from vault.errors import KdfParametersRefused, WeakKdf

KEY_BYTES = 32
SALT_BYTES = 16
NONCE_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES  # 24
SEALED_FORMAT = 1  # first byte of every sealed value


class SealBroken(Exception):
    """A sealed value failed authentication (deliberately without detail)."""


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost: iterations ``t``, memory ``m_kib`` in KiB, lanes ``p``."""

    t: int
    m_kib: int
    p: int

    def describe(self) -> str:
        return f"t={self.t}, m={self.m_kib // 1024} MiB, p={self.p}"


# RFC 9106's second recommendation is the floor; caps are applied to whatever
# a file asks for, before deriving, so a hostile header cannot exhaust memory.
KDF_FLOOR = KdfParams(t=3, m_kib=64 * 1024, p=4)
KDF_CAP = KdfParams(t=10, m_kib=4 * 1024 * 1024, p=16)
KDF_DEFAULT = KdfParams(t=3, m_kib=256 * 1024, p=4)


def is_below_floor(params: KdfParams) -> bool:
    return params.t < KDF_FLOOR.t or params.m_kib < KDF_FLOOR.m_kib or params.p < KDF_FLOOR.p


def check_kdf(params: KdfParams, *, allow_weak: bool) -> None:
    """Refuse parameters outside the caps always, below the floor unless allowed."""
    if not (1 <= params.t <= KDF_CAP.t and 1 <= params.p <= KDF_CAP.p):
        raise KdfParametersRefused(params.describe())
    if not (8 * params.p <= params.m_kib <= KDF_CAP.m_kib):
        raise KdfParametersRefused(params.describe())
    if is_below_floor(params) and not allow_weak:
        raise WeakKdf(params.describe())


def derive_kek(passphrase: str, salt: bytes, params: KdfParams) -> bytearray:
    """Argon2id(NFC(passphrase)) -> 32-byte KEK.  Caps are checked first."""
    check_kdf(params, allow_weak=True)
    if len(salt) != SALT_BYTES:
        raise SealBroken()
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    raw = argon2.low_level.hash_secret_raw(
        secret,
        salt,
        time_cost=params.t,
        memory_cost=params.m_kib,
        parallelism=params.p,
        hash_len=KEY_BYTES,
        type=argon2.low_level.Type.ID,
        version=19,
    )
    return bytearray(raw)


def calibrate(target_seconds: float = 1.0) -> KdfParams:
    """Pick Argon2id memory so one derivation takes about ``target_seconds`` here.

    Never below the floor; t and p stay at 3 and 4, memory grows (up to 1 GiB).
    """
    probe = KDF_FLOOR
    started = time.perf_counter()
    derive_kek("calibration", bytes(SALT_BYTES), probe)
    elapsed = max(time.perf_counter() - started, 1e-3)
    scaled_mib = int(probe.m_kib / 1024 * target_seconds / elapsed)
    mib = max(KDF_FLOOR.m_kib // 1024, min(1024, scaled_mib))
    return KdfParams(t=probe.t, m_kib=mib * 1024, p=probe.p)


def random_bytes(n: int) -> bytes:
    return os.urandom(n)


def pae(*parts: bytes | str | int) -> bytes:
    """Pre-authentication encoding: count, then each part length-prefixed.

    Ints are encoded as 8-byte little-endian, strings as UTF-8.
    """
    # Once per record read or written (the associated data and the signed message): the
    # common kinds are tested first and the Structs are made once.
    out = [_U64(len(parts))]
    for part in parts:
        if isinstance(part, bytes):
            data = part
        elif isinstance(part, str):
            data = part.encode("utf-8")
        elif isinstance(part, int):  # bool too, as 0/1
            data = _I64(part)
        else:  # a bytearray or memoryview
            data = bytes(part)
        out.append(_U64(len(data)))
        out.append(data)
    return b"".join(out)


_U64 = struct.Struct("<Q").pack
_I64 = struct.Struct("<q").pack


def derive_subkey(root: bytes | bytearray, label: bytes, subkey_id: int = 1) -> bytes:
    """libsodium ``crypto_kdf_derive_from_key`` (BLAKE2b salt/personal), 32 bytes."""
    if len(label) != 8:
        raise ValueError("purpose labels are exactly 8 bytes")
    return bytes(
        sodium.crypto_generichash_blake2b_salt_personal(
            b"",
            digest_size=KEY_BYTES,
            key=bytes(root),
            salt=struct.pack("<Q", subkey_id) + bytes(8),
            person=label + bytes(8),
        )
    )


def _seal_with_nonce(key: bytes | bytearray, plaintext: bytes, ad: bytes, nonce: bytes) -> bytes:
    """Twin of :func:`seal` with a fixed nonce, for known-answer tests only."""
    ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, nonce, bytes(key))
    return bytes([SEALED_FORMAT]) + nonce + ct


def seal(key: bytes | bytearray, plaintext: bytes, ad: bytes) -> bytes:
    """XChaCha20-Poly1305 with a random nonce: version byte || nonce || ciphertext."""
    return _seal_with_nonce(key, plaintext, ad, os.urandom(NONCE_BYTES))


def open_sealed(key: bytes | bytearray, sealed: bytes, ad: bytes) -> bytes:
    """Inverse of :func:`seal`; raises :class:`SealBroken` on any failure."""
    if len(sealed) < 1 + NONCE_BYTES + 16 or sealed[0] != SEALED_FORMAT:
        raise SealBroken()
    nonce = sealed[1 : 1 + NONCE_BYTES]
    try:
        return bytes(
            sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed[1 + NONCE_BYTES :], ad, nonce, bytes(key))
        )
    except nacl.exceptions.CryptoError:
        raise SealBroken() from None


def row_tagger(key: bytes | bytearray) -> Callable[[bytes, bytes, bytes], str]:
    """Keyed BLAKE2b-128 of one stored record, as hex: its plaintext metadata
    (``meta``, length-prefixed), its 64-byte signature and its ciphertext.

    The sealed index cache (vault.index) keeps each record's tag beside its
    decoded copy; a row that still gives the same tag is byte for byte the row
    that was authenticated when the copy was made, so it needs no second AEAD
    opening.  The caller checks that ``signature`` has 64 bytes, which keeps
    the concatenation unambiguous.
    """
    base = hashlib.blake2b(key=bytes(key), digest_size=16)

    def tag(meta: bytes, signature: bytes, sealed: bytes) -> str:
        h = base.copy()
        h.update(b"%d:%b" % (len(meta), meta))
        h.update(signature)
        h.update(sealed)
        return h.hexdigest()

    return tag


PAD_BLOCK = 64


def pad(data: bytes, block: int = PAD_BLOCK) -> bytes:
    """ISO/IEC 7816-4 padding to a multiple of ``block`` (libsodium's sodium_pad):
    a sealed value's length then tells only its size in blocks."""
    return bytes(sodium.sodium_pad(data, block))


def unpad(data: bytes, block: int = PAD_BLOCK) -> bytes:
    """Undo :func:`pad`; ValueError when the padding is malformed."""
    try:
        return bytes(sodium.sodium_unpad(data, block))
    except nacl.exceptions.CryptoError:
        raise ValueError("bad padding") from None


def mac(key: bytes | bytearray, data: bytes) -> bytes:
    """Keyed BLAKE2b-256 (a MAC; libsodium's crypto_generichash with a key)."""
    return hashlib.blake2b(data, key=bytes(key), digest_size=32).digest()


def mac_ok(key: bytes | bytearray, data: bytes, tag: bytes) -> bool:
    """Constant-time check of :func:`mac`."""
    return hmac.compare_digest(mac(key, data), tag)


def checksum(data: bytes) -> bytes:
    """Unkeyed BLAKE2b-128: tells accidental damage apart from a wrong passphrase."""
    return hashlib.blake2b(data, digest_size=16).digest()


def digest(data: bytes) -> bytes:
    """BLAKE2b-256 of public data (blob hashes, ids)."""
    return hashlib.blake2b(data, digest_size=32).digest()


# --- signatures -----------------------------------------------------------


def new_signing_key() -> tuple[bytes, bytes]:
    """(32-byte Ed25519 seed, 32-byte verify key)."""
    key = nacl.signing.SigningKey.generate()
    return bytes(key), bytes(key.verify_key)


def verify_key_of(seed: bytes | bytearray) -> bytes:
    """The Ed25519 verify key belonging to a signing seed."""
    return bytes(nacl.signing.SigningKey(bytes(seed)).verify_key)


def sign(seed: bytes | bytearray, message: bytes) -> bytes:
    return bytes(nacl.signing.SigningKey(bytes(seed)).sign(message).signature)


def signer(seed: bytes | bytearray) -> Callable[[bytes], bytes]:
    """:func:`sign` with one key object: rebuilding the key from its seed is half the cost of a
    signature (~35 µs; an import signs every record).  The caller drops it with its keys."""
    key = nacl.signing.SigningKey(bytes(seed))

    def sign_with(message: bytes) -> bytes:
        return bytes(key.sign(message).signature)

    return sign_with


def verify(verify_key: bytes, message: bytes, signature: bytes) -> bool:
    """True if ``signature`` is a valid Ed25519 signature of ``message``."""
    try:
        nacl.signing.VerifyKey(verify_key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, TypeError):
        return False
    return True


# --- sync key pair and sealed boxes ---------------------------------------


def new_box_keypair() -> tuple[bytes, bytes]:
    """(X25519 secret key, public key) for the sync blob."""
    key = nacl.public.PrivateKey.generate()
    return bytes(key), bytes(key.public_key)


def seal_to(public_key: bytes, message: bytes) -> bytes:
    """Anonymous sealed box (crypto_box_seal): only the key pair's owner opens it."""
    return bytes(nacl.public.SealedBox(nacl.public.PublicKey(public_key)).encrypt(message))


def open_sealed_box(secret_key: bytes | bytearray, sealed: bytes) -> bytes:
    try:
        return bytes(nacl.public.SealedBox(nacl.public.PrivateKey(bytes(secret_key))).decrypt(sealed))
    except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError, TypeError):
        raise SealBroken() from None


def wipe(buffer: bytearray) -> None:
    """Overwrite a secret in place (best effort: copies made by libraries remain)."""
    buffer[:] = bytes(len(buffer))


# === sync blob stream (issue 6): helpers below this line ===================
#
# The sync blob (vault/sync/blob.py) is a libsodium secretstream under a fresh
# file key; the file key travels sealed to the vault's sync public key.  The
# ``_..._with_...`` twins take the randomness as arguments so known-answer
# vectors in tests/data/sync can pin the format; production code never calls them.

STREAM_HEADER_BYTES = sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES  # 24
STREAM_ABYTES = sodium.crypto_secretstream_xchacha20poly1305_ABYTES  # 17
STREAM_TAG_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
STREAM_TAG_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
SEALED_BOX_OVERHEAD = sodium.crypto_box_SEALBYTES  # 48


class StreamSealer:
    """Encrypting side of a secretstream; ``push`` one chunk at a time."""

    def __init__(self, key: bytes | bytearray, header: bytes | None = None) -> None:
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        if header is None:
            self.header = bytes(sodium.crypto_secretstream_xchacha20poly1305_init_push(self._state, bytes(key)))
        else:
            # Fixed-randomness twin: init_pull derives the very state init_push
            # would have derived from this header (same key schedule).
            sodium.crypto_secretstream_xchacha20poly1305_init_pull(self._state, header, bytes(key))
            self.header = bytes(header)

    def push(self, chunk: bytes, ad: bytes, *, final: bool = False) -> bytes:
        tag = STREAM_TAG_FINAL if final else STREAM_TAG_MESSAGE
        return bytes(sodium.crypto_secretstream_xchacha20poly1305_push(self._state, chunk, ad, tag))


class StreamOpener:
    """Decrypting side; ``pull`` returns (plaintext, is_final) or raises SealBroken."""

    def __init__(self, key: bytes | bytearray, header: bytes) -> None:
        if len(header) != STREAM_HEADER_BYTES:
            raise SealBroken()
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        try:
            sodium.crypto_secretstream_xchacha20poly1305_init_pull(self._state, header, bytes(key))
        except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError, TypeError):
            raise SealBroken() from None

    def pull(self, ciphertext: bytes, ad: bytes) -> tuple[bytes, bool]:
        try:
            plain, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(self._state, ciphertext, ad)
        except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError, TypeError):
            raise SealBroken() from None
        if tag not in (STREAM_TAG_MESSAGE, STREAM_TAG_FINAL):
            raise SealBroken()
        return bytes(plain), tag == STREAM_TAG_FINAL


def new_stream_key() -> bytes:
    return bytes(sodium.crypto_secretstream_xchacha20poly1305_keygen())


def seal_to_with_ephemeral(public_key: bytes, message: bytes, ephemeral_secret: bytes) -> bytes:
    """Twin of :func:`seal_to` with a fixed ephemeral key (known-answer tests only).

    Byte-identical to crypto_box_seal: epk || crypto_box(m, blake2b(epk||pk, 24), pk, esk);
    the result opens with the real ``crypto_box_seal_open``.
    """
    ephemeral_public = sodium.crypto_scalarmult_base(ephemeral_secret)
    nonce = hashlib.blake2b(ephemeral_public + public_key, digest_size=sodium.crypto_box_NONCEBYTES).digest()
    return bytes(ephemeral_public) + bytes(sodium.crypto_box(message, nonce, public_key, ephemeral_secret))

"""Known-answer vectors pin the formats; KDF floors and caps are regression-tested."""

from __future__ import annotations

import json
import unicodedata
from datetime import date
from pathlib import Path

import pytest

from vault import crypto
from vault.errors import KdfParametersRefused, WeakKdf
from vault.records import meta_message, record_ad

KAT = json.loads((Path(__file__).parents[1] / "data" / "crypto_kat.json").read_text())


def test_argon2id_kek_matches_the_pinned_vector() -> None:
    v = KAT["argon2id"]
    params = crypto.KdfParams(v["t"], v["m_kib"], v["p"])
    kek = crypto.derive_kek(v["passphrase"], bytes.fromhex(v["salt"]), params)
    assert bytes(kek).hex() == v["kek"]


def test_nfc_and_nfd_forms_of_a_passphrase_derive_the_same_kek() -> None:
    v = KAT["argon2id"]
    params = crypto.KdfParams(1, 8 * 1024, 1)
    salt = bytes.fromhex(v["salt"])
    nfd = unicodedata.normalize("NFD", v["passphrase"])
    assert nfd != v["passphrase"]
    assert crypto.derive_kek(nfd, salt, params) == crypto.derive_kek(v["passphrase"], salt, params)


def test_purpose_subkey_matches_the_pinned_vector() -> None:
    v = KAT["subkey"]
    key = crypto.derive_subkey(bytes.fromhex(v["root"]), v["label"].encode(), v["id"])
    assert key.hex() == v["key"]
    assert crypto.derive_subkey(bytes.fromhex(v["root"]), b"keywrap_") != key


def test_sealed_record_matches_the_pinned_vector_and_opens() -> None:
    v = KAT["record"]
    ad = record_ad(
        bytes.fromhex(v["vault_id"]),
        v["table"],
        v["id"],
        v["meta_version"],
        date.fromisoformat(v["retention_end"]),
        None,
        v["hold"],
        bytes.fromhex(v["meta_sig"]),
    )
    assert ad.hex() == v["ad"]
    key = bytes.fromhex(v["key"])
    sealed = crypto._seal_with_nonce(key, bytes.fromhex(v["plaintext"]), ad, bytes.fromhex(v["nonce"]))
    assert sealed.hex() == v["sealed"]
    assert sealed[0] == crypto.SEALED_FORMAT
    assert crypto.open_sealed(key, sealed, ad).hex() == v["plaintext"]


def test_metadata_signature_matches_the_pinned_vector() -> None:
    v = KAT["signature"]
    message = meta_message(
        bytes.fromhex(v["vault_id"]), v["id"], date.fromisoformat(v["retention_end"]), v["hold"], v["meta_version"]
    )
    seed = bytes.fromhex(v["seed"])
    assert crypto.sign(seed, message).hex() == v["signature"]
    verify_key = __import__("nacl.signing").signing.SigningKey(seed).verify_key.encode()
    assert crypto.verify(verify_key, message, bytes.fromhex(v["signature"]))
    assert not crypto.verify(verify_key, message + b"x", bytes.fromhex(v["signature"]))


@pytest.mark.parametrize("where", ["version", "nonce", "body", "tag"])
def test_any_flipped_byte_breaks_a_seal(where: str) -> None:
    key = bytes(32)
    sealed = bytearray(crypto.seal(key, b"payload", b"ad"))
    index = {"version": 0, "nonce": 5, "body": 1 + 24 + 2, "tag": len(sealed) - 1}[where]
    sealed[index] ^= 0x01
    with pytest.raises(crypto.SealBroken):
        crypto.open_sealed(key, bytes(sealed), b"ad")


def test_a_seal_does_not_open_under_other_additional_data() -> None:
    key = bytes(32)
    sealed = crypto.seal(key, b"payload", crypto.pae("contacts", "id-1"))
    with pytest.raises(crypto.SealBroken):
        crypto.open_sealed(key, sealed, crypto.pae("contacts", "id-2"))


def test_pae_is_unambiguous() -> None:
    assert crypto.pae("ab", "c") != crypto.pae("a", "bc")
    assert crypto.pae(b"") != crypto.pae()


@pytest.mark.parametrize(
    "params",
    [
        crypto.KdfParams(t=3, m_kib=2**40, p=4),
        crypto.KdfParams(t=2**32, m_kib=64 * 1024, p=4),
        crypto.KdfParams(t=3, m_kib=64 * 1024, p=64),
        crypto.KdfParams(t=0, m_kib=64 * 1024, p=4),
    ],
)
def test_hostile_kdf_parameters_are_refused_before_deriving(params: crypto.KdfParams) -> None:
    with pytest.raises(KdfParametersRefused):
        crypto.derive_kek("x", bytes(16), params)


def test_kdf_below_the_floor_needs_an_explicit_allowance() -> None:
    weak = crypto.KdfParams(t=2, m_kib=64 * 1024, p=4)
    with pytest.raises(WeakKdf):
        crypto.check_kdf(weak, allow_weak=False)
    crypto.check_kdf(weak, allow_weak=True)
    crypto.check_kdf(crypto.KDF_FLOOR, allow_weak=False)
    assert crypto.KdfParams(t=3, m_kib=64 * 1024, p=4) == crypto.KDF_FLOOR


def test_calibration_never_goes_below_the_floor() -> None:
    params = crypto.calibrate(target_seconds=0.001)
    assert not crypto.is_below_floor(params)


def test_wipe_overwrites_a_secret_in_place() -> None:
    secret = bytearray(b"secret key bytes")
    view = secret
    crypto.wipe(secret)
    assert view == bytearray(len(b"secret key bytes"))


def test_pae_encoding_is_pinned() -> None:
    """Count, then each part as 8-byte little-endian length and bytes; ints (bools as 0/1) as
    signed 8-byte little-endian, text as UTF-8: every AD and signed message depends on it."""

    def u64(n: int) -> bytes:
        return n.to_bytes(8, "little")

    expected = u64(6) + u64(1) + b"x" + u64(2) + "ä".encode() + u64(8) + u64(1)
    expected += u64(8) + u64(1) + u64(8) + (-2).to_bytes(8, "little", signed=True) + u64(2) + b"ab"
    assert crypto.pae(b"x", "ä", True, 1, -2, bytearray(b"ab")) == expected
    assert crypto.pae() == u64(0)

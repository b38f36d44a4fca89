"""The sealed index cache: what unlock needs, without opening every record.

Opening 100,000 records one by one (AEAD, JSON, search keys with phone
formatting) takes seconds.  The index keeps, per record, its decoded fields and
precomputed search keys, in 256 buckets (by crc32 of the record id), each one
XChaCha20-Poly1305 seal under its own purpose key; the additional data binds
the vault, the table, the bucket number and the index format.

It is a cache, never a source of truth.  Each entry carries a keyed BLAKE2b tag
over its row's plaintext metadata (exactly as stored), signature and
ciphertext.  At unlock every row is read and tagged (cheap); an entry is used
only when its row still gives the same tag, i.e. when the row is byte for byte
the one that was authenticated when the entry was made, so a tampered row
fails exactly as before (it is opened and reported damaged).
Rows without a matching entry are opened individually; entries without a row
are dropped; a bucket that fails authentication is ignored and rebuilt.

Entries are decoded to :class:`~vault.model.Contact` objects lazily, when a
contact is asked for.
"""

from __future__ import annotations

import gc
import json
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import fields
from datetime import date, datetime
from itertools import repeat
from operator import call
from typing import Any

from vault import crypto
from vault.model import Contact, LegalBasis, State
from vault.records import FORMAT_VERSION, extra_fields, with_extra_fields
from vault.search import by_name, name_key
from vault.store.schema import INDEX_BUCKETS, index_bucket, index_buckets

INDEX_VERSION = 3  # 2: the payload ends with the issue-11 fields as an object; 3: then the history (hex)
TABLE = "index_cache"
LABEL = b"index___"  # subkey 1 seals buckets, subkey 2 tags rows
SEAL_SUBKEY = 1
TAG_SUBKEY = 2

# An entry is [text key, digits key, id, row tag, meta_version, payload]: the
# search keys first, so an entry serves as its record's key pair (see
# Vault.search_keys).  The payload is a JSON array text, decoded only when the
# contact is asked for (then the entry holds the Contact instead), in the order
# of Contact's constructor, dates as ISO strings.
TEXT_KEY, DIGIT_KEY, ID, TAG, VERSION, PAYLOAD = range(6)
ENTRY_FIELDS = 6
PAYLOAD_FIELDS = 23

Entry = list[Any]
Tagger = Callable[[bytes, bytes, bytes], str]

_BASES = {b.value: b for b in LegalBasis}
_STATES = {s.value: s for s in State}


def bucket_ad(vault_id: bytes, bucket: int) -> bytes:
    return crypto.pae(b"sealbook-index-v1", FORMAT_VERSION, vault_id, TABLE, bucket, INDEX_VERSION)


def _d(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def stored_metadata(meta_version: object, retention_end: object, review_at: object, hold: object) -> bytes:
    """A row's plaintext metadata in the form the tag covers, from its raw stored
    values (Store.contact_checks).  %r of an int, a str or None is an unambiguous
    literal: 1 and '1', None and 'None' differ."""
    return b"%r|%r|%r|%r" % (meta_version, retention_end, review_at, hold)


def stored_history(stored: bytes, history: object) -> bytes:
    """``stored`` extended by the row's raw history column, when it has one."""
    return stored + b"|" + history if type(history) is bytes and history else stored


def row_tag(tagger: Tagger, stored: bytes, meta_sig: object, sealed: object) -> str | None:
    """The tag of a row; None if it cannot be tagged (then no entry ever matches it)."""
    if type(meta_sig) is not bytes or len(meta_sig) != 64 or type(sealed) is not bytes:
        return None
    return tagger(stored, meta_sig, sealed)


def contact_tag(tagger: Tagger, contact: Contact, meta_sig: bytes, sealed: bytes) -> str:
    """The tag of the row the store writes for ``contact``: SQLAlchemy stores a
    Date as ISO text and a Boolean as 0/1, so these are its raw values."""
    c = contact
    stored = stored_history(
        stored_metadata(c.meta_version, _d(c.retention_end), _d(c.review_at), int(c.hold)), c.history
    )
    return row_tag(tagger, stored, meta_sig, sealed) or ""


def make_entry(contact: Contact, tag: str, keys: tuple[str, str]) -> Entry:
    c = contact
    payload = [
        c.id, c.name, c.basis.value, c.rule, _d(c.trigger), _d(c.retention_end), _d(c.review_at),
        list(c.emails), list(c.phones), c.org, c.notes, c.source, c.purpose,
        _d(c.consent_given), _d(c.consent_withdrawn), c.uid, c.state.value, c.hold, c.meta_version,
        c.created.isoformat(), c.updated.isoformat(), extra_fields(c), c.history.hex(),
    ]  # fmt: skip
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return [keys[0], keys[1], c.id, tag, c.meta_version, text]


# Contact's fields, in its constructor's order, as the setters of its slots; the defaults of the
# fields a payload keeps in its object of issue-11 fields (with_extra_fields), before the history.
_FIELDS = fields(Contact)
_SETTERS = tuple(getattr(Contact, f.name).__set__ for f in _FIELDS)
_ISSUE_11_DEFAULTS = tuple(f.default for f in _FIELDS[21:-1])


def quick_contact(values: Sequence[Any]) -> Contact:
    """``Contact(*values)`` for all of its fields, without the generated ``__init__`` (a frozen
    dataclass sets each field through ``object.__setattr__``, ~6 us for 29): the slots' setters in
    one C loop take half of that, and the list decodes every contact after an unlock (100k: ~0.3 s
    less).  Contact has no ``__post_init__`` to skip (tests/vault/test_index_cache.py checks it)."""
    if len(values) != len(_SETTERS):
        raise TypeError("a value for every field")
    contact: Contact = object.__new__(Contact)
    deque(map(call, _SETTERS, repeat(contact), values), maxlen=0)
    return contact


class PayloadDecoder:
    """Payload text -> Contact.  Dates, rule names, organisations, sources, purposes,
    short notes and write histories repeat across records, so each distinct value is
    parsed (and stored) once: at 100k contacts the JSON parser's 100k equal strings of
    one import's source, say, are ~20 MB of the unlocked app (issue 15, RSS)."""

    SHARED_NOTES = 64  # notes up to this length are shared ("Prefers e-mail."); longer ones rarely repeat

    def __init__(self) -> None:
        self._dates: dict[str, date] = {}
        self._moments: dict[str, datetime] = {}
        self._words: dict[str, str] = {}
        self._histories: dict[str, bytes] = {}

    def word(self, text: str) -> str:
        """``text``, or the equal string decoded before (TypeError for what is no string)."""
        if type(text) is not str:
            raise TypeError("not a text")
        return self._words.setdefault(text, text)

    def history(self, text: str) -> bytes:
        found = self._histories.get(text)
        if found is None:
            found = self._histories[text] = bytes.fromhex(text)
        return found

    def day(self, text: str | None) -> date | None:
        if text is None:
            return None
        found = self._dates.get(text)
        if found is None:
            found = self._dates[text] = date.fromisoformat(text)
        return found

    def moment(self, text: str) -> datetime:
        found = self._moments.get(text)
        if found is None:
            found = self._moments[text] = datetime.fromisoformat(text)
        return found

    def __call__(self, record_id: str, text: str) -> Contact:
        return self.from_list(record_id, json.loads(text))

    def from_list(self, record_id: str, p: Any) -> Contact:
        """The contact of an already parsed payload (see :meth:`ContactIndex.all`)."""
        if type(p) is not list or len(p) != PAYLOAD_FIELDS or p[0] != record_id:
            raise ValueError("entry of another record")
        day, word = self.day, self.word
        notes = p[10]
        if type(notes) is not str:
            raise TypeError("not a text")
        if len(notes) <= self.SHARED_NOTES:
            notes = word(notes)
        contact = quick_contact([
            record_id, p[1], _BASES[p[2]], word(p[3]), day(p[4]), day(p[5]), day(p[6]),
            tuple(p[7]), tuple(p[8]), word(p[9]), notes, word(p[11]), word(p[12]), day(p[13]), day(p[14]), p[15],
            _STATES[p[16]], bool(p[17]), int(p[18]), self.moment(p[19]), self.moment(p[20]),
            *_ISSUE_11_DEFAULTS, self.history(p[22]),
        ])  # fmt: skip
        if type(p[21]) is dict and not p[21]:  # no issue-11 fields: with_extra_fields would return it as is
            return contact
        return with_extra_fields(contact, p[21])


# A bucket's plaintext: a JSON array with one entry per record in which the
# three texts (text key, digits key, payload) are replaced by their lengths, a
# newline, then those texts of each entry one after the other.  Keeping the
# texts out of the JSON spares the parser unescaping them (the keys hold \x1f
# separators, the payload quotes), and the parsed lists become the entries.


def open_bucket(
    key: bytes | bytearray, vault_id: bytes, bucket: int, sealed: bytes, into: dict[str, Entry] | None = None
) -> list[Entry] | None:
    """The entries of one sealed bucket, or None if it fails authentication or
    parsing.  With ``into``, they are also added to it by id as they are read,
    and the caller must undo that when None comes back."""
    text = bucket_text(key, vault_id, bucket, sealed)
    return None if text is None else parse_bucket(text, into)


def bucket_text(key: bytes | bytearray, vault_id: bytes, bucket: int, sealed: bytes) -> str | None:
    """The plaintext of one sealed bucket, or None if it fails authentication."""
    try:
        return crypto.open_sealed(key, sealed, bucket_ad(vault_id, bucket)).decode("utf-8")
    except (crypto.SealBroken, ValueError):
        return None


def parse_bucket(text: str, into: dict[str, Entry] | None = None) -> list[Entry] | None:
    """The entries of a bucket's plaintext (see :func:`open_bucket`), or None if it does not parse."""
    try:
        cut = text.index("\n")
        entries = json.loads(text[:cut])
        if type(entries) is not list:
            return None
        pos = cut + 1
        for e in entries:  # authenticated, so malformed only by a bug: caught below, never guessed at
            start = pos
            a = start + e[TEXT_KEY]
            b = a + e[DIGIT_KEY]
            pos = b + e[PAYLOAD]
            e[TEXT_KEY], e[DIGIT_KEY], e[PAYLOAD] = text[start:a], text[a:b], text[b:pos]
            if into is not None:
                into[e[ID]] = e
    except (ValueError, TypeError, IndexError, KeyError):
        return None
    if pos != len(text) or not all(len(e) == ENTRY_FIELDS for e in entries):
        return None
    return entries


def bucket_heads(text: str) -> list[Entry] | None:
    """The entries of a bucket's plaintext with their texts' lengths in place of the texts:
    ids, tags and versions without slicing a text (vault.lookup: buckets a query cannot
    hit).  None where :func:`parse_bucket` gives None, and also for negative or non-int
    lengths, so whatever passes here parses there too.  The checks run over columns
    (C loops): this reads every bucket at every `find`."""
    try:
        cut = text.index("\n")
        entries = json.loads(text[:cut])
    except ValueError:
        return None
    if type(entries) is not list or not set(map(type, entries)) <= {list} or not set(map(len, entries)) <= {6}:
        return None
    if not entries:
        return entries if cut + 1 == len(text) else None
    columns = list(zip(*entries, strict=True))
    lengths = (columns[TEXT_KEY], columns[DIGIT_KEY], columns[PAYLOAD])
    if not all(set(map(type, column)) <= {int} and min(column) >= 0 for column in lengths):
        return None
    return entries if cut + 1 + sum(map(sum, lengths)) == len(text) else None


def seal_bucket(key: bytes | bytearray, vault_id: bytes, bucket: int, entries: list[Entry]) -> bytes | None:
    if not entries:
        return None
    heads = [[len(e[TEXT_KEY]), len(e[DIGIT_KEY]), e[ID], e[TAG], e[VERSION], len(e[PAYLOAD])] for e in entries]
    texts = "".join(e[TEXT_KEY] + e[DIGIT_KEY] + e[PAYLOAD] for e in entries)
    plain = json.dumps(heads, separators=(",", ":")) + "\n" + texts
    return crypto.seal(key, plain.encode("utf-8"), bucket_ad(vault_id, bucket))


class ContactIndex(Mapping[str, Contact]):
    """The unlocked vault's records: id -> Contact, decoded from entries on first access.

    :attr:`keys` maps every id to its entry, whose first two items are the
    search keys; :attr:`dirty` lists buckets on disk that no longer match memory.
    """

    # More changes than this since the name order was made: sorting again is cheaper.
    MAX_MOVES = 2000

    def __init__(self) -> None:
        self._items: dict[str, Entry] = {}
        self._members: list[set[str]] | None = None  # bucket -> ids, built on the first write
        self.dirty: set[int] = set()
        self._decode = PayloadDecoder()
        # Every contact in the list's order (search.by_name), once asked for, and the records
        # changed since: id -> the contact that order holds for it (None: none).
        self._by_name: list[Contact] | None = None
        self._moved: dict[str, Contact | None] = {}

    @property
    def keys(self) -> Mapping[str, Sequence[str]]:  # type: ignore[override]
        return self._items

    # --- Mapping --------------------------------------------------------------

    def __getitem__(self, record_id: str) -> Contact:
        entry = self._items[record_id]
        item = entry[PAYLOAD]
        if type(item) is str:
            try:
                item = entry[PAYLOAD] = self._decode(record_id, item)
            except (ValueError, KeyError, TypeError, IndexError):
                # Authenticated but unreadable (a format bug): never guess; the
                # next unlock opens the row itself.
                self.discard(record_id)
                raise KeyError(record_id) from None
        return item  # type: ignore[no-any-return]

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def all(self) -> list[Contact]:
        """Every contact, decoding those not decoded yet."""
        # Many long-lived objects and no cycles: keep the cyclic collector out of it.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._decode_pending()
            out = []
            for record_id in list(self._items):
                try:
                    out.append(self[record_id])
                except KeyError:  # unreadable entry, dropped (see __getitem__)
                    continue
            return out
        finally:
            if collecting:
                gc.enable()

    def by_name(self) -> list[Contact]:
        """Every contact (as :meth:`all`) in the list's order, search.by_name.  The order is
        kept between calls and mended for the records changed since (an edit at 100k
        contacts: a few bisections, where sorting again took 0.3 s)."""
        order = self._by_name
        if order is not None:
            try:
                self._mend(order)
            except LookupError:  # not where it should be (cannot happen): sort again
                order = None
        if order is None:
            order = self._by_name = by_name(self.all())
        self._moved = {}
        return list(order)

    def _mend(self, order: list[Contact]) -> None:
        for record_id, old in self._moved.items():
            if old is not None:
                at = bisect_left(order, name_key(old), key=name_key)
                if at == len(order) or order[at] is not old:
                    raise LookupError(record_id)
                del order[at]
            if record_id in self._items:
                try:
                    contact = self[record_id]
                except KeyError:  # unreadable: dropped (__getitem__)
                    continue
                insort(order, contact, key=name_key)

    def _changing(self, record_id: str) -> None:
        """Before the entry of ``record_id`` changes: note which contact the name order holds for it."""
        if self._by_name is None or record_id in self._moved:
            return
        entry = self._items.get(record_id)
        if len(self._moved) >= self.MAX_MOVES:  # a large import, say: sort again when asked
            self._by_name = None
            self._moved = {}
        elif entry is None:
            self._moved[record_id] = None
        elif type(entry[PAYLOAD]) is str:  # a contact the order may hold, never decoded here: cannot tell
            self._by_name = None
            self._moved = {}
        else:
            self._moved[record_id] = entry[PAYLOAD]

    DECODE_CHUNK = 1024  # payloads parsed by one json.loads call in all()

    def _decode_pending(self) -> None:
        """Decode every entry not decoded yet, DECODE_CHUNK payloads per JSON parse (one
        parse call per payload is a third of the work at 100k contacts).  Anything that
        does not decode cleanly here is left as text: __getitem__ decodes it alone and
        drops it when it fails, as before."""
        pending = [(rid, e) for rid, e in self._items.items() if type(e[PAYLOAD]) is str]
        decode = self._decode.from_list
        for start in range(0, len(pending), self.DECODE_CHUNK):
            chunk = pending[start : start + self.DECODE_CHUNK]
            try:
                lists = json.loads("[" + ",".join(e[PAYLOAD] for _, e in chunk) + "]")
            except ValueError:
                continue
            if type(lists) is not list or len(lists) != len(chunk):
                continue
            for (record_id, entry), p in zip(chunk, lists, strict=True):
                try:
                    entry[PAYLOAD] = decode(record_id, p)
                except (ValueError, KeyError, TypeError, IndexError):
                    continue

    def versions(self) -> dict[str, int]:
        """meta_version by id, without decoding anything."""
        return {record_id: e[VERSION] for record_id, e in self._items.items()}

    # --- changes ----------------------------------------------------------------

    def open_unchecked(self, key: bytes | bytearray, vault_id: bytes, bucket: int, sealed: bytes) -> bool:
        """Add the entries of a sealed bucket (False if it does not open).  The caller
        checks them against the rows (and drops those that fail) before anything
        reads them."""
        added: dict[str, Entry] = {}
        if open_bucket(key, vault_id, bucket, sealed, into=added) is None:
            return False
        self._items.update(added)
        return True

    def put(self, contact: Contact, tag: str, keys: tuple[str, str]) -> None:
        """A contact just opened from, or sealed into, a row that gives ``tag``."""
        self.adopt([[keys[0], keys[1], contact.id, tag, contact.meta_version, contact]])

    def adopt(self, entries: Iterable[Entry]) -> None:
        """Entries for rows just opened or sealed, each checked by the caller against its row's
        tag (:meth:`put`; vault.rowopen's, whose payload is still text)."""
        for entry in entries:
            record_id = entry[ID]
            self._changing(record_id)
            self._items[record_id] = entry
            bucket = index_bucket(record_id)
            if self._members is not None:
                self._members[bucket].add(record_id)
            self.dirty.add(bucket)

    def discard(self, record_id: str) -> None:
        self._changing(record_id)
        if self._items.pop(record_id, None) is not None:
            bucket = index_bucket(record_id)
            if self._members is not None:
                self._members[bucket].discard(record_id)
            self.dirty.add(bucket)

    # --- buckets ----------------------------------------------------------------

    def _entry(self, record_id: str) -> Entry:
        entry = self._items[record_id]
        item = entry[PAYLOAD]
        if type(item) is str:
            return entry
        return make_entry(item, entry[TAG], (entry[TEXT_KEY], entry[DIGIT_KEY]))

    def members(self, bucket: int) -> set[str]:
        """The ids memory holds in ``bucket`` (a live set: copy it before changing the index)."""
        if self._members is None:
            members: list[set[str]] = [set() for _ in range(INDEX_BUCKETS)]
            ids = list(self._items)  # the first write after an unlock (issue 15: a save at 100k)
            for record_id, number in zip(ids, index_buckets(ids), strict=True):
                members[number].add(record_id)
            self._members = members
        return self._members[bucket]

    def bucket_entries(self, bucket: int, pending: Mapping[str, Entry | None]) -> list[Entry]:
        """The entries of ``bucket`` as memory holds them, with ``pending`` changes
        (of this bucket's records; None: deleted) applied."""
        out: list[Entry] = []
        for record_id in sorted(self.members(bucket) | pending.keys()):
            if record_id in pending:
                entry = pending[record_id]
                if entry is not None:
                    out.append(entry)
            elif record_id in self._items:
                out.append(self._entry(record_id))
        return out


def sealed_buckets(
    index: ContactIndex,
    key: bytes | bytearray,
    vault_id: bytes,
    buckets: Iterable[int],
    overrides: Mapping[str, Entry | None] = {},
) -> dict[int, bytes | None]:
    """Bucket number -> new sealed value (None: delete it) for ``buckets`` and the
    buckets of ``overrides`` (pending changes by record id; None: deleted)."""
    pending: dict[int, dict[str, Entry | None]] = {bucket: {} for bucket in buckets}
    for record_id, entry in overrides.items():
        pending.setdefault(index_bucket(record_id), {})[record_id] = entry
    return {
        bucket: seal_bucket(key, vault_id, bucket, index.bucket_entries(bucket, changes))
        for bucket, changes in sorted(pending.items())
    }

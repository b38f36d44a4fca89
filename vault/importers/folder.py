"""Reading a folder of .vcf files (a vdir, as khard and vdirsyncer keep one) as one import batch.

Which files are read:

* every file named ``*.vcf`` (in any case) in the folder, and in its subfolders one
  level down: a vdirsyncer storage is a folder of collection folders, each a vdir.
  Deeper folders are not read (a vdir has none; a home folder given by mistake is
  not combed through);
* names starting with a dot are skipped, files and folders alike (vdirsyncer's and
  khard's own files, ``.git``, editors' backups), and so is every name not ending in
  ``.vcf`` (``*.tmp`` files of an interrupted write among them);
* a link is followed only when it leads to a place inside the folder; one that leads
  out is listed as a problem and not read (a folder from elsewhere must not make the
  import read, say, another address book or a device file).  A linked subfolder is not
  entered even then (its files are read where they are), and a file reached by two
  names is read once, so no contact comes in twice.

The files are read one at a time in sorted order of their paths, so a preview and the
import that follows it number the entries alike.  A vdir holds one vCard per file, but
a file with several is read whole too.  What is wrong with one file (its name is not
UTF-8, it cannot be read, a link leads out, it is larger than ``MAX_FILE_BYTES``, it
holds no vCard) is an entry with an error, so the preview lists it and "import the
rest" (``--skip-invalid``) leaves it out; a folder without .vcf files, with more than
``MAX_FOLDER_FILES`` of them, larger than ``MAX_FOLDER_BYTES`` in all or with more than
``MAX_ENTRIES`` entries in all is refused as a whole (:class:`FolderRefused`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from vault import importers

# The limits are read from the package at call time: that is where they are
# documented, and where callers (and tests) read or change them.
from vault.i18n import _
from vault.importers.entries import FolderRefused, ImportRefused, ParsedEntry
from vault.importers.reading import read_file
from vault.importers.vcard import parse_vcards

_VCARD = re.compile(rb"BEGIN:VCARD", re.IGNORECASE)


@dataclass(frozen=True)
class VcfFile:
    """One .vcf file of the folder: its name as shown, where to read it, or what is wrong with it."""

    name: str  # path inside the folder, '/'-separated; bytes that are not UTF-8 shown as U+FFFD
    path: Path
    size: int = 0
    problem: str = ""


@dataclass
class FolderReading:
    """The entries of every file, numbered through the whole folder, and which file each comes from."""

    files: list[VcfFile]
    starts: list[tuple[int, str]] = field(default_factory=list)  # (first entry number, file name), in order

    def entries(self) -> Iterator[ParsedEntry]:
        """Every file's entries, read one file at a time (FolderRefused when the folder
        grows past its limits while being read)."""
        index = total = 0
        for vcf in self.files:
            self.starts.append((index + 1, vcf.name))
            problem, parsed = vcf.problem, None
            if not problem:
                try:
                    data = read_file(vcf.path)
                except ImportRefused as exc:  # larger than MAX_FILE_BYTES, gone, unreadable
                    problem = exc.detail or _("cannot be read")
                else:
                    total += len(data)
                    if total > importers.MAX_FOLDER_BYTES:  # grown since it was listed
                        raise FolderRefused(_too_large())
                    if _VCARD.search(data) is None:
                        problem = _("not a vCard")
                    else:
                        parsed = parse_vcards(data)
            if parsed is None:
                index += 1
                yield ParsedEntry(index, 1, error=problem)
                continue
            first = index
            try:
                for entry in parsed:
                    index += 1
                    if index > importers.MAX_ENTRIES:
                        raise FolderRefused(_("more than {count} entries").format(count=importers.MAX_ENTRIES))
                    yield replace(entry, index=index)
            except ImportRefused as exc:  # one file over the entry limit refuses the folder, in its words
                raise FolderRefused(exc.detail) from None
            if index == first:  # cannot happen with BEGIN:VCARD in the file, but never a silent file
                index += 1
                yield ParsedEntry(index, 1, error=_("not a vCard"))


def read_folder(folder: Path) -> FolderReading:
    """The .vcf files of ``folder`` (see the module docstring), checked against the folder's
    limits before any is read; FolderRefused when there is none or they are too many or large."""
    files = list_vcf_files(Path(folder))
    if not files:
        raise FolderRefused(_("no .vcf file in this folder or its subfolders"))
    if len(files) > importers.MAX_FOLDER_FILES:
        raise FolderRefused(_("more than {count} .vcf files").format(count=importers.MAX_FOLDER_FILES))
    if sum(f.size for f in files) > importers.MAX_FOLDER_BYTES:
        raise FolderRefused(_too_large())
    return FolderReading(files)


def list_vcf_files(folder: Path) -> list[VcfFile]:
    """The .vcf files of ``folder`` and of its subfolders one level down, sorted by path;
    a file reached by two names (a link inside the folder) is listed once."""
    try:
        root = folder.resolve(strict=True)
        top = _listing(folder)
    except OSError as exc:
        raise FolderRefused(exc.strerror) from None
    found: list[tuple[tuple[str, ...], VcfFile]] = []
    for entry in top:
        if not _is_dir(entry):
            found.append(((entry.name,), _vcf(entry, (entry.name,), root)))
        elif entry.is_symlink():  # a linked folder is not entered: inside, its files are read where they are
            if not _inside(entry.path, root):
                found.append(((entry.name,), _refused(entry, (entry.name,), _link_out())))
        else:
            try:
                inner = _listing(Path(entry.path))
            except OSError as exc:
                found.append(((entry.name,), _refused(entry, (entry.name,), exc.strerror)))
                continue
            found += [((entry.name, e.name), _vcf(e, (entry.name, e.name), root)) for e in inner if not _is_dir(e)]
    files: list[VcfFile] = []
    seen: set[str] = set()
    for _key, vcf in sorted(found, key=lambda pair: pair[0]):
        real = "" if vcf.problem else os.path.realpath(vcf.path)
        if real in seen:
            continue
        if real:
            seen.add(real)
        files.append(vcf)
    return files


def _listing(folder: Path) -> list[os.DirEntry[str]]:
    """The folder's entries that may matter: not hidden; folders, and files named .vcf."""
    with os.scandir(folder) as it:
        return [e for e in it if not e.name.startswith(".") and (_is_dir(e) or e.name.lower().endswith(".vcf"))]


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # follows a link: a linked collection counts (if it stays inside)
    except OSError:
        return False


def _vcf(entry: os.DirEntry[str], parts: tuple[str, ...], root: Path) -> VcfFile:
    path = Path(entry.path)
    try:
        "/".join(parts).encode("utf-8")
    except UnicodeEncodeError:
        return _refused(entry, parts, _("the file name is not valid UTF-8; rename the file"))
    if entry.is_symlink() and not _inside(entry.path, root):
        return _refused(entry, parts, _link_out())
    try:
        info = path.stat()  # follows a link (which stays inside)
    except OSError as exc:
        return _refused(entry, parts, exc.strerror)
    if not path.is_file():  # a FIFO or a device would block or never end
        return _refused(entry, parts, _("not a file"))
    return VcfFile(_shown(parts), path, info.st_size)


def _refused(entry: os.DirEntry[str], parts: tuple[str, ...], problem: str | None) -> VcfFile:
    return VcfFile(_shown(parts), Path(entry.path), 0, problem or _("cannot be read"))


def _shown(parts: tuple[str, ...]) -> str:
    """The path as text that can always be printed (a name in another encoding keeps its
    readable parts, its other bytes become U+FFFD)."""
    return os.fsencode("/".join(parts)).decode("utf-8", "replace")


def _inside(path: str, root: Path) -> bool:
    return Path(os.path.realpath(path)).is_relative_to(root)


def _link_out() -> str:
    return _("a link that leads out of the folder; not followed")


def _too_large() -> str:
    return _("larger than {size} MiB in all").format(size=importers.MAX_FOLDER_BYTES // (1024 * 1024))

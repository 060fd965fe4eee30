"""Safe extraction of uploaded .zip packages.

Everything that can be judged from the central directory and the local headers is judged before
a single byte is written: names (traversal, absolute paths, drive letters, backslashes), entry
types (symlinks, devices), counts, declared sizes, compression ratios, overlapping entries (the
"better zip bomb"). Extraction then decompresses each member itself with a byte counter, because
the declared sizes are exactly what an attacker controls: a member that produces more than it
declared is stopped there. Everything goes into a staging folder that is renamed into place only
when every member succeeded, so an upload goes in whole or not at all."""
from __future__ import annotations

import os
import shutil
import stat
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from content.filetypes import check_file, file_type
from content.junk import is_junk
from content.messages import Reporter, Term, human_size
from content.model import PackageInvalid

_CHUNK = 1024 * 1024
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_UNICODE_PATH_EXTRA = 0x7075


@dataclass(frozen=True)
class ArchiveLimits:
    max_entries: int = 2000
    max_total_bytes: int = 2 * 1024**3  # sum of uncompressed sizes
    max_file_bytes: int = 1024**3  # one uncompressed member
    max_ratio: float = 100.0  # uncompressed / compressed, per member and for the whole archive
    # Ratios are only judged above this size: a small text file may legitimately compress 200:1,
    # and a bomb needs size to hurt.
    ratio_min_bytes: int = 1024 * 1024
    max_path_chars: int = 240


def _unicode_path_extra(info: zipfile.ZipInfo, raw_name: bytes) -> str | None:
    """The Info-ZIP Unicode Path extra field (written by 7-Zip, WinRAR and others): a UTF-8 name
    valid as long as its CRC matches the legacy name it accompanies."""
    extra = info.extra
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        data = extra[pos + 4:pos + 4 + size]
        pos += 4 + size
        if tag == _UNICODE_PATH_EXTRA and len(data) >= 5 and data[0] == 1:
            (crc,) = struct.unpack_from("<I", data, 1)
            if crc == zlib.crc32(raw_name):
                try:
                    return data[5:].decode("utf-8")
                except UnicodeDecodeError:
                    return None
    return None


def raw_name(info: zipfile.ZipInfo) -> bytes:
    """The name bytes as stored in the archive (zipfile decodes them one of two ways)."""
    if info.flag_bits & 0x800:
        return info.orig_filename.encode("utf-8")
    return info.orig_filename.encode("cp437")


def decode_name(info: zipfile.ZipInfo) -> str:
    """The entry's real name. Without the UTF-8 flag (bit 11) zipfile decodes names as cp437,
    but zips made by Explorer or WinRAR on Chinese Windows hold GBK bytes; and some tools write
    UTF-8 without setting the flag. UTF-8 is tried first because it is self-checking: GBK-encoded
    Chinese is almost never valid UTF-8, while UTF-8 bytes often decode (wrongly) as GBK."""
    if info.flag_bits & 0x800:
        return info.orig_filename
    raw = raw_name(info)
    unicode_name = _unicode_path_extra(info, raw)
    if unicode_name is not None:
        return unicode_name
    if raw.isascii():
        return info.orig_filename
    for encoding in ("utf-8", "gbk"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.orig_filename


def unsafe_reason(name: str, max_chars: int) -> str | None:
    """Why `name` must not be written to disk, as a TERMS key; None when it is safe."""
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "control"
    if "\\" in name:
        return "backslash"
    if name.startswith("/"):
        return "absolute"
    if len(name) >= 2 and name[1] == ":" and name[0].isalpha():
        return "drive"
    parts = name.rstrip("/").split("/")
    if ".." in parts:
        return "traversal"
    if any(part in ("", ".") for part in parts):
        return "empty-part"
    if len(name) > max_chars:
        return "too-long"
    return None


@dataclass
class _Entry:
    info: zipfile.ZipInfo
    name: str  # decoded, without a trailing slash
    is_dir: bool
    junk: bool
    data_start: int = 0


def _plan(zf: zipfile.ZipFile, raw: object, archive: str, limits: ArchiveLimits, rep: Reporter,
          check_types: bool) -> list[_Entry]:
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        rep.add(archive, None, "archive-too-many-entries", count=len(infos), max=limits.max_entries)
        return []
    entries: list[_Entry] = []
    seen: dict[str, str] = {}
    total = total_compressed = 0
    for info in infos:
        name = decode_name(info)
        reason = unsafe_reason(name, limits.max_path_chars)
        if reason:
            rep.add(name, None, "archive-unsafe-path", name=name, reason=Term(reason))
            continue
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            rep.add(name, None, "archive-symlink")
            continue
        if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
            rep.add(name, None, "archive-special-file")
            continue
        if info.flag_bits & 0x1:
            rep.add(name, None, "archive-encrypted")
            continue
        is_dir = info.is_dir() or stat.S_ISDIR(mode)
        entry = _Entry(info, name.rstrip("/"), is_dir, is_junk(name))
        total += info.file_size
        total_compressed += info.compress_size
        if is_dir:
            entries.append(entry)
            continue
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            rep.add(name, None, "archive-unsupported-compression")
        if info.file_size > limits.max_file_bytes:
            rep.add(name, None, "archive-file-too-large", size=human_size(info.file_size),
                    max=human_size(limits.max_file_bytes))
        if (info.file_size > limits.ratio_min_bytes
                and info.file_size > limits.max_ratio * max(info.compress_size, 1)):
            rep.add(name, None, "archive-ratio", ratio=info.file_size // max(info.compress_size, 1),
                    max=f"{limits.max_ratio:g}")
        if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            rep.add(name, None, "archive-size-mismatch", declared=info.file_size)
        if check_types and not entry.junk and file_type(name) is None:
            rep.add(name, None, "file-disallowed")
        key = entry.name.casefold()
        if key in seen:
            rep.add(name, None, "archive-duplicate-name", name=name)
        seen[key] = name
        entries.append(entry)
    # a file whose name is also used as a folder by another entry
    folders = {"/".join(e.name.casefold().split("/")[:i])
               for e in entries for i in range(1, e.name.count("/") + 1)}
    for entry in entries:
        if not entry.is_dir and entry.name.casefold() in folders:
            rep.add(entry.name, None, "archive-duplicate-name", name=entry.name)
    if total > limits.max_total_bytes:
        rep.add(archive, None, "archive-too-large", size=human_size(total), max=human_size(limits.max_total_bytes))
    entry_ratio_reported = any(p.code == "archive-ratio" for p in rep.problems)
    if (not entry_ratio_reported and total > limits.ratio_min_bytes
            and total > limits.max_ratio * max(total_compressed, 1)):
        rep.add(archive, None, "archive-ratio", ratio=total // max(total_compressed, 1), max=f"{limits.max_ratio:g}")
    _locate_data(entries, raw, archive, rep)
    return entries


def _locate_data(entries: list[_Entry], raw, archive: str, rep: Reporter) -> None:
    """Read every local header: it must name the same file as the central directory, and no
    member's data may overlap another's (overlap lets a few KB stand for gigabytes)."""
    raw.seek(0, os.SEEK_END)
    file_end = raw.tell()
    previous_end = 0
    for entry in sorted(entries, key=lambda e: e.info.header_offset):
        info = entry.info
        raw.seek(info.header_offset)
        header = raw.read(_LOCAL_HEADER.size)
        if len(header) < _LOCAL_HEADER.size or header[:4] != _LOCAL_SIGNATURE:
            rep.add(entry.name, None, "archive-corrupt")
            continue
        fields = _LOCAL_HEADER.unpack(header)
        name_len, extra_len = fields[9], fields[10]
        if raw.read(name_len) != raw_name(info):
            rep.add(entry.name, None, "archive-corrupt")
            continue
        entry.data_start = info.header_offset + _LOCAL_HEADER.size + name_len + extra_len
        data_end = entry.data_start + info.compress_size
        if info.header_offset < previous_end:
            rep.add(entry.name, None, "archive-overlapping-entries")
        if data_end > file_end:
            rep.add(entry.name, None, "archive-corrupt")
        previous_end = max(previous_end, data_end)


class _SizeMismatch(Exception):
    pass


class _Corrupt(Exception):
    pass


def _copy_member(raw, entry: _Entry, out) -> None:
    """Decompress one member into `out`, never writing more than its declared size."""
    info = entry.info
    declared = info.file_size
    written = 0
    crc = 0

    def emit(data: bytes) -> None:
        nonlocal written, crc
        written += len(data)
        if written > declared:
            raise _SizeMismatch
        crc = zlib.crc32(data, crc)
        out.write(data)

    raw.seek(entry.data_start)
    left = info.compress_size
    if info.compress_type == zipfile.ZIP_STORED:
        while left > 0:
            chunk = raw.read(min(_CHUNK, left))
            if not chunk:
                raise _Corrupt
            left -= len(chunk)
            emit(chunk)
    else:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            while not inflater.eof:
                if inflater.unconsumed_tail:
                    emit(inflater.decompress(inflater.unconsumed_tail, _CHUNK))
                elif left > 0:
                    chunk = raw.read(min(_CHUNK, left))
                    if not chunk:
                        raise _Corrupt
                    left -= len(chunk)
                    emit(inflater.decompress(chunk, _CHUNK))
                else:
                    emit(inflater.flush())
                    if not inflater.eof:
                        raise _Corrupt  # the deflate stream ends before its end marker
        except zlib.error as exc:
            raise _Corrupt from exc
    if written != declared:
        raise _SizeMismatch
    if crc != info.CRC:
        raise _Corrupt


def safe_extract(zip_path: str | os.PathLike[str], dest_dir: str | os.PathLike[str],
                 limits: ArchiveLimits | None = None, *, locale: str = "zh",
                 check_content: bool = True) -> list[str]:
    """Extract `zip_path` into `dest_dir` (which must not exist or be empty) or raise
    PackageInvalid with every problem found; on failure nothing is left behind.

    Skips desktop junk (__MACOSX/, .DS_Store, Thumbs.db, desktop.ini, ._*). With
    `check_content` (the default) every file must have an allowed extension and content that
    matches it; load_package turns that off and lets its validator report those problems
    together with everything else. Returns the extracted files' relative names, sorted."""
    limits = limits or ArchiveLimits()
    rep = Reporter(locale)
    zip_path = Path(zip_path)
    dest = Path(dest_dir)
    archive = zip_path.name
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise FileExistsError(f"{dest} exists and is not an empty folder")
    try:
        raw = zip_path.open("rb")
    except OSError as exc:
        rep.add(archive, None, "package-not-found", path=str(zip_path))
        raise PackageInvalid(rep.sorted()) from exc
    with raw:
        try:
            with zipfile.ZipFile(raw) as zf:
                entries = _plan(zf, raw, archive, limits, rep, check_content)
        except _UNREADABLE as exc:
            rep.add(archive, None, "archive-corrupt")
            raise PackageInvalid(rep.sorted()) from exc
        if rep.problems:
            raise PackageInvalid(rep.sorted())
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=dest.parent))
        try:
            names = _extract_all(raw, entries, staging, rep, check_content)
            if rep.problems:
                raise PackageInvalid(rep.sorted())
            if dest.exists():
                dest.rmdir()
            os.replace(staging, dest)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return names


# What a malformed central directory makes zipfile raise.
_UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError,
               struct.error, UnicodeDecodeError, OSError)


def _extract_all(raw, entries: list[_Entry], staging: Path, rep: Reporter, check_content: bool) -> list[str]:
    names = []
    root = staging.resolve()
    for entry in entries:
        if entry.junk or entry.is_dir:
            continue
        target = staging / entry.name
        # unsafe_reason already refused every escaping name; this guards against a mistake there
        if not target.resolve().is_relative_to(root):
            rep.add(entry.name, None, "archive-unsafe-path", name=entry.name, reason=Term("traversal"))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with target.open("xb") as out:
                _copy_member(raw, entry, out)
        except _SizeMismatch:
            rep.add(entry.name, None, "archive-size-mismatch", declared=entry.info.file_size)
            continue
        except _Corrupt:
            rep.add(entry.name, None, "archive-corrupt")
            continue
        names.append(entry.name)
        if check_content:
            ftype = file_type(entry.name)
            issue = check_file(target, ftype) if ftype else None
            if issue:
                rep.add(entry.name, None, issue.code, **issue.params)
    return sorted(names)

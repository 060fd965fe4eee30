"""Just enough ISO base media file format (mp4 / m4a) parsing to know which codecs the tracks use.

Phones play H.264 video and AAC audio everywhere; an HEVC or MPEG-4 part 2 upload would look
fine on the administrator's desktop and show a black box on a rider's phone, so the upload check
reads each track's handler ('vide' / 'soun') and sample-entry type from the `stsd` box."""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

MAX_MOOV_BYTES = 64 * 1024 * 1024  # a two-hour film's moov is a few MB
MAX_TOP_LEVEL_BOXES = 10_000  # real files have a handful; fragmented mp4 a few thousand


class NotIsoMedia(ValueError):
    """The bytes are not a well-formed ISO media file."""


@dataclass(frozen=True)
class Track:
    handler: str  # 'vide', 'soun', ...
    codecs: tuple[str, ...]  # sample-entry fourccs from stsd, e.g. ('avc1',)


@dataclass(frozen=True)
class MediaInfo:
    major_brand: str
    tracks: tuple[Track, ...]

    def codecs(self, handler: str) -> tuple[str, ...]:
        return tuple(c for t in self.tracks if t.handler == handler for c in t.codecs)

    def has(self, handler: str) -> bool:
        return any(t.handler == handler for t in self.tracks)


def _box_header(data: bytes, pos: int, end: int) -> tuple[bytes, int, int]:
    """(type, payload start, box end) for the box at `pos` inside bytes that end at `end`."""
    if pos + 8 > end:
        raise NotIsoMedia("truncated box header")
    size, kind = struct.unpack_from(">I4s", data, pos)
    header = 8
    if size == 1:
        if pos + 16 > end:
            raise NotIsoMedia("truncated large box header")
        (size,) = struct.unpack_from(">Q", data, pos + 8)
        header = 16
    elif size == 0:
        size = end - pos
    if size < header or pos + size > end:
        raise NotIsoMedia(f"bad size for box {kind!r}")
    return kind, pos + header, pos + size


def _children(data: bytes, start: int, end: int):
    pos = start
    while pos < end:
        kind, payload, box_end = _box_header(data, pos, end)
        yield kind, payload, box_end
        pos = box_end


def _find(data: bytes, start: int, end: int, path: tuple[bytes, ...]) -> list[tuple[int, int]]:
    """Payload ranges of every box reached by `path` below [start, end)."""
    if not path:
        return [(start, end)]
    found = []
    for kind, payload, box_end in _children(data, start, end):
        if kind == path[0]:
            found.extend(_find(data, payload, box_end, path[1:]))
    return found


def _track(data: bytes, start: int, end: int) -> Track:
    handler = ""
    for h_start, h_end in _find(data, start, end, (b"mdia", b"hdlr")):
        if h_end - h_start >= 12:
            handler = data[h_start + 8:h_start + 12].decode("latin-1")
    codecs: list[str] = []
    for s_start, s_end in _find(data, start, end, (b"mdia", b"minf", b"stbl", b"stsd")):
        if s_end - s_start < 8:
            raise NotIsoMedia("truncated stsd")
        (count,) = struct.unpack_from(">I", data, s_start + 4)
        pos = s_start + 8
        for _ in range(count):
            kind, _payload, entry_end = _box_header(data, pos, s_end)
            codecs.append(kind.decode("latin-1"))
            pos = entry_end
    return Track(handler, tuple(codecs))


def read_media_info(f: BinaryIO) -> MediaInfo:
    """Walk the top-level boxes (seeking over mdat), then parse moov's tracks."""
    f.seek(0, 2)
    file_end = f.tell()
    pos = 0
    brand = None
    moov: bytes | None = None
    boxes = 0
    while pos < file_end:
        boxes += 1
        if boxes > MAX_TOP_LEVEL_BOXES:
            raise NotIsoMedia("too many top-level boxes")
        f.seek(pos)
        head = f.read(16)
        kind, payload, box_end = _top_header(head, pos, file_end)
        if pos == 0 and kind != b"ftyp":
            raise NotIsoMedia("no ftyp box at the start")
        if kind == b"ftyp":
            f.seek(payload)
            brand = f.read(4).decode("latin-1")
        elif kind == b"moov":
            if box_end - payload > MAX_MOOV_BYTES:
                raise NotIsoMedia("moov box too large")
            f.seek(payload)
            moov = f.read(box_end - payload)
        pos = box_end
    if brand is None or moov is None:
        raise NotIsoMedia("no moov box")
    tracks = tuple(_track(moov, t_start, t_end) for t_start, t_end in _find(moov, 0, len(moov), (b"trak",)))
    return MediaInfo(brand, tracks)


def _top_header(head: bytes, pos: int, file_end: int) -> tuple[bytes, int, int]:
    """A top-level box header read from the file: absolute payload start and end."""
    if len(head) < 8:
        raise NotIsoMedia("truncated box header")
    size, kind = struct.unpack_from(">I4s", head, 0)
    header = 8
    if size == 1:
        if len(head) < 16:
            raise NotIsoMedia("truncated large box header")
        (size,) = struct.unpack_from(">Q", head, 8)
        header = 16
    elif size == 0:
        size = file_end - pos
    if size < header or pos + size > file_end:
        raise NotIsoMedia(f"bad size for box {kind!r}")
    return kind, pos + header, pos + size

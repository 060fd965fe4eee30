"""Builders for course-package tests: tiny but well-formed media files, a good package folder,
and a raw ZIP writer that can produce the malformed archives an attacker would upload."""
from __future__ import annotations

import shutil
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest


# ---------------------------------------------------------------- media
def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes() -> bytes:
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def jpeg_bytes() -> bytes:
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\xff\xd9"


def webp_bytes() -> bytes:
    body = b"WEBP" + b"VP8L" + struct.pack("<I", 5) + b"\x2f\x00\x00\x00\x00" + b"\x00"
    return b"RIFF" + struct.pack("<I", len(body)) + body


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def mp3_bytes() -> bytes:
    id3 = b"ID3\x03\x00\x00" + bytes([0, 0, 0, 10]) + b"\x00" * 10
    frame = b"\xff\xfb\x90\x64" + b"\x00" * 413  # MPEG-1 layer III, 128 kbit/s, 44.1 kHz
    return id3 + frame * 3


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _trak(handler: bytes, codec: bytes) -> bytes:
    hdlr = _box(b"hdlr", b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00" + handler + b"\x00" * 12 + b"track\x00")
    entry = _box(codec, b"\x00" * 78)
    stsd = _box(b"stsd", b"\x00\x00\x00\x00" + struct.pack(">I", 1) + entry)
    stbl = _box(b"stbl", stsd)
    minf = _box(b"minf", stbl)
    return _box(b"trak", _box(b"mdia", hdlr + minf))


def iso_bytes(tracks: list[tuple[bytes, bytes]], brand: bytes = b"isom", moov_last: bool = False) -> bytes:
    ftyp = _box(b"ftyp", brand + b"\x00\x00\x02\x00" + b"isomiso2avc1mp41")
    moov = _box(b"moov", b"".join(_trak(h, c) for h, c in tracks))
    mdat = _box(b"mdat", b"\x00" * 64)
    return ftyp + (mdat + moov if moov_last else moov + mdat)


def mp4_bytes(codec: bytes = b"avc1", moov_last: bool = False) -> bytes:
    return iso_bytes([(b"vide", codec), (b"soun", b"mp4a")], moov_last=moov_last)


def m4a_bytes(codec: bytes = b"mp4a") -> bytes:
    return iso_bytes([(b"soun", codec)], brand=b"M4A ")


ELF_BYTES = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 100


# ---------------------------------------------------------------- a good package
COURSE_TOML = """\
format = 1
id = "road-safety"
version = "1.0.0"
title = "道路交通安全"
summary = "骑手、货车司机和网约车司机的道路交通安全要点。"
category = "安全"
hours = 1.5
audience = ["外卖骑手", "快递员"]
tags = ["交通", "安全"]
cover = "media/cover.png"
lessons = [
    "01-intro.md",
    "02-talk.md",
    "03-audio.md",
    "04-handout.md",
    "05-quiz.toml",
]
"""

INTRO_MD = """\
+++
title = "为什么要系好头盔"
kind = "text"
duration = "5m"
min_dwell = "2m"
+++

## 头盔

正文使用 Markdown。图片引用包内文件：![头盔示意图](../media/helmet.png)

另见[交通安全法](https://www.gov.cn/)和[讲义](../media/handout.pdf)，以及 ![封面](media/cover.png)。
"""

TALK_MD = """\
+++
title = "一分钟视频"
kind = "video"
duration = "1m30s"
min_dwell = 45
media = "media/talk.mp4"
requires = ["01-intro"]
+++

视频文字稿。
"""

AUDIO_MD = """\
+++
title = "音频复习"
kind = "audio"
duration = 120
media = "media/talk.m4a"
optional = true
+++
"""

HANDOUT_MD = """\
+++
title = "讲义"
kind = "pdf"
duration = "10m"
min_dwell = "1m"
media = "media/handout.pdf"
requires = ["01-intro", "02-talk"]
+++

请阅读讲义。
"""

QUIZ_TOML = """\
title = "课后测验"
kind = "quiz"
duration = "3m"
min_dwell = "1m"
pass_score = 80
requires = ["01-intro"]

[[questions]]
type = "single"
prompt = "骑电动自行车时应当？"
options = ["佩戴安全头盔", "边骑边看手机", "逆行抄近路"]
answer = "A"
explanation = "《道路交通安全法》规定应佩戴安全头盔。"

[[questions]]
type = "multiple"
prompt = "哪些做法正确？"
options = ["按灯行驶", "闯红灯", "礼让行人", "逆行"]
answer = ["C", "A"]
explanation = "按灯行驶、礼让行人。"

[[questions]]
type = "truefalse"
prompt = "可以边骑车边看手机。"
answer = false
explanation = "骑车看手机极易引发事故。"

[[questions]]
type = "multiple"
prompt = "只有一个正确选项的多选题也可以。"
options = ["对", "错"]
answer = ["A"]
explanation = "多选题可以只有一个答案。"
"""


def good_files() -> dict[str, str | bytes]:
    return {
        "course.toml": COURSE_TOML,
        "lessons/01-intro.md": INTRO_MD,
        "lessons/02-talk.md": TALK_MD,
        "lessons/03-audio.md": AUDIO_MD,
        "lessons/04-handout.md": HANDOUT_MD,
        "lessons/05-quiz.toml": QUIZ_TOML,
        "media/cover.png": png_bytes(),
        "media/helmet.png": png_bytes() + b"helmet",
        "media/talk.mp4": mp4_bytes(),
        "media/talk.m4a": m4a_bytes(),
        "media/handout.pdf": pdf_bytes(),
        "media/jingle.mp3": mp3_bytes(),
        "media/photo.jpg": jpeg_bytes(),
        "media/sticker.webp": webp_bytes(),
    }


def write_files(folder: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            target.write_text(content, encoding="utf-8")
        else:
            target.write_bytes(content)
    return folder


class PackageFolder:
    """A good package in a folder, with small editing helpers for building bad ones."""

    def __init__(self, root: Path):
        self.root = root
        write_files(root, good_files())

    def path(self, name: str) -> Path:
        return self.root / name

    def write(self, name: str, content: str | bytes) -> None:
        write_files(self.root, {name: content})

    def remove(self, name: str) -> None:
        target = self.root / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()

    def replace(self, name: str, old: str, new: str) -> None:
        text = self.path(name).read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}"
        self.path(name).write_text(text.replace(old, new, 1), encoding="utf-8")

    def line_of(self, name: str, needle: str) -> int:
        for number, line in enumerate(self.path(name).read_text(encoding="utf-8").split("\n"), start=1):
            if needle in line:
                return number
        raise AssertionError(f"{needle!r} not in {name}")

    def zip(self, out: Path, *, prefix: str = "") -> Path:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for item in sorted(self.root.rglob("*")):
                if item.is_file():
                    zf.write(item, prefix + item.relative_to(self.root).as_posix())
        return out


# ---------------------------------------------------------------- raw zip writer
@dataclass
class RawMember:
    """One archive member written byte by byte, so every header field can lie."""

    name: bytes
    data: bytes  # uncompressed content
    method: int = zipfile.ZIP_DEFLATED
    flags: int = 0
    external_attr: int = 0o100644 << 16
    declared_size: int | None = None  # what the headers claim; default: the truth
    create_system: int = 3
    at: int | None = None  # header offset to claim instead of the real one (overlap attacks)
    stored_bytes: bytes | None = field(default=None, repr=False)  # override compressed bytes

    def compressed(self) -> bytes:
        if self.stored_bytes is not None:
            return self.stored_bytes
        if self.method == zipfile.ZIP_DEFLATED:
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            return c.compress(self.data) + c.flush()
        return self.data


def local_record(m: RawMember) -> bytes:
    comp = m.compressed()
    size = len(m.data) if m.declared_size is None else m.declared_size
    header = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, m.flags, m.method, 0, 0x21,
                         zlib.crc32(m.data), len(comp), size, len(m.name), 0)
    return header + m.name + comp


def raw_zip(members: list[RawMember]) -> bytes:
    out = bytearray()
    central = bytearray()
    for m in members:
        offset = len(out)
        out += local_record(m)
        comp = m.compressed()
        size = len(m.data) if m.declared_size is None else m.declared_size
        central += struct.pack("<4sBBHHHHHIIIHHHHHII", b"PK\x01\x02", 20, m.create_system, 20, m.flags,
                               m.method, 0, 0x21, zlib.crc32(m.data), len(comp), size, len(m.name),
                               0, 0, 0, 0, m.external_attr, offset if m.at is None else m.at)
        central += m.name
    cd_offset = len(out)
    out += central
    out += struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central),
                       cd_offset, 0)
    return bytes(out)


@pytest.fixture
def media():
    return SimpleNamespace(png=png_bytes, jpeg=jpeg_bytes, webp=webp_bytes, pdf=pdf_bytes, mp3=mp3_bytes,
                           mp4=mp4_bytes, m4a=m4a_bytes, iso=iso_bytes, elf=ELF_BYTES)


@pytest.fixture
def package(tmp_path) -> PackageFolder:
    return PackageFolder(tmp_path / "pkg")


@pytest.fixture
def rawzip():
    return SimpleNamespace(Member=RawMember, build=raw_zip, local_record=local_record, good_files=good_files)

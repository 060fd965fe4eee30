"""Which files a package may hold, checked by content rather than by name.

Media files are served to browsers straight from disk. A file that claims to be a PNG but holds
HTML would be an XSS vector on some browsers, an executable renamed .mp4 a malware drop, so each
file's first bytes must match what its extension promises."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from content.isobmff import NotIsoMedia, read_media_info
from content.messages import Term

# extension -> type name used in messages and checks
MEDIA_TYPES: dict[str, str] = {
    ".mp4": "mp4", ".m4a": "m4a", ".mp3": "mp3", ".pdf": "pdf",
    ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp",
}
TEXT_TYPES: dict[str, str] = {".md": "markdown", ".toml": "toml"}
IMAGE_TYPES = frozenset({"png", "jpeg", "webp"})
# lesson kind -> media types it may use
LESSON_MEDIA: dict[str, frozenset[str]] = {
    "video": frozenset({"mp4"}),
    "audio": frozenset({"m4a", "mp3"}),
    "pdf": frozenset({"pdf"}),
}
TEXT_MAX_BYTES = 4 * 1024 * 1024  # a lesson is read in one piece; no lesson is this long

_HEAD_BYTES = 4096
_HTML_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*<(?:!doctype|!--|\?xml|html|head|body|script|svg|iframe|meta|style|title|"
    rb"div|a|img|table|p|br|link|object|embed|form)[\s>/]",
    re.IGNORECASE,
)
_MACHO = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")


def file_type(name: str) -> str | None:
    """The type a file name declares, or None when its extension is not allowed at all."""
    suffix = Path(name).suffix.lower()
    return MEDIA_TYPES.get(suffix) or TEXT_TYPES.get(suffix)


def _is_executable(head: bytes, *, scripts: bool) -> bool:
    if head.startswith(b"\x7fELF") or head.startswith(_MACHO):
        return True
    if head.startswith(b"MZ") and b"\0" in head[:64]:
        return True
    return scripts and head.startswith(b"#!")


def _is_mp3(head: bytes) -> bool:
    pos = 0
    if head.startswith(b"ID3") and len(head) >= 10:
        size = 0
        for b in head[6:10]:
            size = (size << 7) | (b & 0x7F)
        pos = 10 + size + (10 if head[5] & 0x10 else 0)
        if pos + 4 > len(head):
            # a large ID3 tag (cover art) pushes the first frame past the sampled head;
            # the tag itself was well-formed, which no other allowed type starts with
            return True
    # some encoders pad between the tag and the first frame
    while pos < len(head) and head[pos] == 0:
        pos += 1
    if pos + 4 > len(head):
        return False
    b0, b1, b2 = head[pos], head[pos + 1], head[pos + 2]
    return (
        b0 == 0xFF and (b1 & 0xE0) == 0xE0
        and (b1 >> 3) & 3 != 1  # MPEG version not reserved
        and (b1 >> 1) & 3 == 1  # layer III
        and b2 >> 4 not in (0, 15)  # bitrate index
        and (b2 >> 2) & 3 != 3  # sample rate index
    )


def sniff(head: bytes) -> str | None:
    """The type the bytes look like, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head[4:8] == b"ftyp":
        return "mp4"
    if _is_mp3(head):
        return "mp3"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    return None


@dataclass(frozen=True)
class ContentIssue:
    code: str
    params: dict[str, object] = field(default_factory=dict)


def check_file(path: Path, ftype: str) -> ContentIssue | None:
    """Whether the file at `path` really is of type `ftype` (from file_type)."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(_HEAD_BYTES)
        if ftype in ("markdown", "toml"):
            return _check_text(f, head, size)
        if size == 0:
            return ContentIssue("file-empty")
        if _is_executable(head, scripts=True):
            return ContentIssue("file-executable")
        if _HTML_START.match(head):
            return ContentIssue("file-html")
        found = sniff(head)
        expected = "mp4" if ftype == "m4a" else ftype
        if found != expected:
            return ContentIssue("file-content-mismatch",
                                {"expected": ftype, "found": found or Term("unknown")})
        if ftype in ("mp4", "m4a"):
            return _check_iso_media(f, ftype)
    return None


def _check_text(f, head: bytes, size: int) -> ContentIssue | None:
    if _is_executable(head, scripts=False):
        return ContentIssue("file-executable")
    if size > TEXT_MAX_BYTES:
        return ContentIssue("text-too-large", {"max": f"{TEXT_MAX_BYTES // (1024 * 1024)} MB"})
    data = head + f.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ContentIssue("text-encoding")
    if "\0" in text:
        return ContentIssue("text-encoding")
    return None


def _check_iso_media(f, ftype: str) -> ContentIssue | None:
    try:
        info = read_media_info(f)
    except NotIsoMedia:
        return ContentIssue("file-content-mismatch", {"expected": ftype, "found": Term("damaged")})
    if ftype == "mp4":
        video = info.codecs("vide")
        if not video:
            return ContentIssue("mp4-not-h264", {"found": Term("none")})
        others = sorted({c for c in video if c != "avc1"})
        if others:
            return ContentIssue("mp4-not-h264", {"found": ", ".join(others)})
        return None
    if info.has("vide"):
        return ContentIssue("file-content-mismatch", {"expected": "m4a", "found": "mp4"})
    audio = info.codecs("soun")
    if not audio:
        return ContentIssue("m4a-not-aac", {"found": Term("none")})
    others = sorted({c for c in audio if c != "mp4a"})
    if others:
        return ContentIssue("m4a-not-aac", {"found": ", ".join(others)})
    return None

"""Uploaded archives: attacks are refused before anything is written, and nothing is left behind."""
from __future__ import annotations

import stat
import struct
import warnings
import zipfile
import zlib

import pytest

from content import ArchiveLimits, PackageInvalid, load_package, open_package, safe_extract


def _codes(exc: pytest.ExceptionInfo) -> set[str]:
    return {p.code for p in exc.value.problems}


def _refused(archive, tmp_path, limits=None) -> set[str]:
    """Extract expecting refusal; the target and any staging folder must not exist afterwards."""
    dest = tmp_path / "out" / "pkg"
    with pytest.raises(PackageInvalid) as caught:
        safe_extract(archive, dest, limits)
    assert not dest.exists()
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
    return _codes(caught)


def _zip(tmp_path, rawzip, members, name="upload.zip"):
    path = tmp_path / name
    path.write_bytes(rawzip.build(members))
    return path


def test_good_archive_extracts_every_file(package, tmp_path):
    archive = package.zip(tmp_path / "course.zip")
    names = safe_extract(archive, tmp_path / "out")
    assert "course.toml" in names and "media/talk.mp4" in names
    assert (tmp_path / "out" / "media" / "talk.mp4").read_bytes() == package.path("media/talk.mp4").read_bytes()


def test_destination_must_be_empty(package, tmp_path):
    archive = package.zip(tmp_path / "course.zip")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        safe_extract(archive, tmp_path / "out")
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize("name, reason", [
    (b"../evil.md", "traversal"),
    (b"lessons/../../evil.md", "traversal"),
    (b"/etc/cron.d/evil.md", "absolute"),
    (b"C:/Windows/evil.md", "drive"),
    (b"C:evil.md", "drive"),
    (b"lessons\\..\\..\\evil.md", "backslash"),
    (b"media/evil\x01.png", "control"),
    (b"media//evil.png", "empty-part"),
    (b"./media/evil.png", "empty-part"),
])
def test_unsafe_names_are_refused_before_extraction(name, reason, tmp_path, rawzip, monkeypatch):
    written = []
    monkeypatch.setattr("content.archive._copy_member", lambda *a: written.append(a))
    archive = _zip(tmp_path, rawzip, [rawzip.Member(b"course.toml", b"format = 1\n"), rawzip.Member(name, b"x")])
    assert _refused(archive, tmp_path) == {"archive-unsafe-path"}
    assert written == []  # not even the harmless member was written
    assert not (tmp_path / "evil.md").exists() and not (tmp_path.parent / "evil.md").exists()


def test_symlink_entries_are_refused(tmp_path, rawzip):
    link = rawzip.Member(b"media/passwd.png", b"/etc/passwd", external_attr=(stat.S_IFLNK | 0o777) << 16)
    assert _refused(_zip(tmp_path, rawzip, [link]), tmp_path) == {"archive-symlink"}


def test_zip_bomb_by_ratio_is_refused_without_inflating(tmp_path, rawzip, monkeypatch):
    monkeypatch.setattr("content.archive._copy_member", lambda *a: pytest.fail("inflated a bomb"))
    bomb = rawzip.Member(b"media/bomb.png", b"\0" * (50 * 1024 * 1024))
    assert _refused(_zip(tmp_path, rawzip, [bomb]), tmp_path) == {"archive-ratio"}


def test_many_moderate_members_are_judged_by_the_total_ratio(tmp_path, rawzip):
    # each member stays under the per-entry threshold; together they are a bomb
    members = [rawzip.Member(f"media/{i}.png".encode(), b"\0" * (900 * 1024)) for i in range(20)]
    assert _refused(_zip(tmp_path, rawzip, members), tmp_path) == {"archive-ratio"}


def test_too_many_files(tmp_path, rawzip):
    members = [rawzip.Member(f"media/{i}.png".encode(), b"x", method=zipfile.ZIP_STORED) for i in range(2001)]
    assert _refused(_zip(tmp_path, rawzip, members), tmp_path) == {"archive-too-many-entries"}
    # the limit is configurable
    small = _zip(tmp_path, rawzip, members[:10], "small.zip")
    assert _refused(small, tmp_path, ArchiveLimits(max_entries=9)) == {"archive-too-many-entries"}


def test_total_size_limit(package, tmp_path):
    archive = package.zip(tmp_path / "course.zip")
    assert _refused(archive, tmp_path, ArchiveLimits(max_total_bytes=1000)) == {"archive-too-large"}


def test_member_that_inflates_past_its_declared_size_is_stopped(tmp_path, rawzip, monkeypatch):
    written = []

    class Counting:
        def __init__(self, out):
            self.out = out

        def write(self, data):
            written.append(len(data))
            return self.out.write(data)

    import content.archive as archive_module
    real_copy = archive_module._copy_member
    monkeypatch.setattr(archive_module, "_copy_member", lambda raw, entry, out: real_copy(raw, entry, Counting(out)))
    liar = rawzip.Member(b"media/talk.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (8 * 1024 * 1024), declared_size=4096)
    assert _refused(_zip(tmp_path, rawzip, [liar]), tmp_path) == {"archive-size-mismatch"}
    # decompression stopped at the first chunk past the declared size instead of inflating 8 MB
    assert sum(written) <= 4096


def test_member_smaller_than_declared_is_refused(tmp_path, rawzip):
    liar = rawzip.Member(b"media/talk.png", b"\x89PNG\r\n\x1a\n" + b"\1" * 1000, declared_size=5000)
    assert _refused(_zip(tmp_path, rawzip, [liar]), tmp_path) == {"archive-size-mismatch"}


def test_damaged_data_is_refused_by_crc(tmp_path, rawzip):
    good = rawzip.Member(b"media/a.png", b"\x89PNG\r\n\x1a\n" + b"abc" * 100, method=zipfile.ZIP_STORED)
    data = bytearray(rawzip.build([good]))
    data[30 + len(good.name) + 20] ^= 0xFF  # flip a byte inside the stored data
    archive = tmp_path / "damaged.zip"
    archive.write_bytes(bytes(data))
    assert _refused(archive, tmp_path) == {"archive-corrupt"}


def test_local_header_naming_another_file_is_refused(tmp_path, rawzip):
    member = rawzip.Member(b"media/a.png", b"x", method=zipfile.ZIP_STORED)
    data = rawzip.build([member]).replace(b"media/a.png", b"media/b.png", 1)  # local header only
    archive = tmp_path / "split.zip"
    archive.write_bytes(data)
    assert _refused(archive, tmp_path) == {"archive-corrupt"}


def test_duplicate_names_are_refused(tmp_path):
    archive = tmp_path / "dup.zip"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate it is told to write
        with zipfile.ZipFile(archive, "w") as zf:
            zf.writestr("lessons/01.md", "first")
            zf.writestr("lessons/01.md", "second")
    assert _refused(archive, tmp_path) == {"archive-duplicate-name"}


def test_file_and_folder_with_the_same_name_are_refused(tmp_path):
    archive = tmp_path / "clash.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("media/pics", "a file")
        zf.writestr("media/pics/a.png", b"\x89PNG\r\n\x1a\n")
    assert "archive-duplicate-name" in _refused(archive, tmp_path)


@pytest.mark.parametrize("name, content, code", [
    ("media/x.png", b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>", "file-html"),
    ("media/x.png", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "file-html"),
    ("media/x.jpg", b"\x7fELF\x02\x01\x01" + b"\0" * 200, "file-executable"),
    ("media/x.mp4", b"MZ\x90\x00\x03\x00\x00\x00" + b"\0" * 200, "file-executable"),
    ("media/x.pdf", b"#!/bin/sh\nrm -rf /\n", "file-executable"),
    ("media/x.png", b"\xff\xd8\xff\xe0 jpeg bytes", "file-content-mismatch"),
    ("media/x.webp", b"PK\x03\x04 a zip inside", "file-content-mismatch"),
    ("media/page.html", b"<p>hi</p>", "file-disallowed"),
    ("media/image.svg", b"<svg/>", "file-disallowed"),
    ("run.exe", b"MZ", "file-disallowed"),
    ("lessons/01.md", "正文".encode("gbk"), "text-encoding"),
])
def test_content_is_checked_against_the_extension(name, content, code, tmp_path):
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(name, content)
    assert _refused(archive, tmp_path) == {code}


def test_elf_renamed_png_inside_a_package_is_refused_by_load_package(package, tmp_path, media):
    package.write("media/helmet.png", media.elf)
    with pytest.raises(PackageInvalid) as caught:
        load_package(package.zip(tmp_path / "course.zip"))
    assert ("media/helmet.png", "file-executable") in {(p.file, p.code) for p in caught.value.problems}


def test_desktop_junk_is_skipped(package, tmp_path):
    archive = package.zip(tmp_path / "course.zip")
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("__MACOSX/media/._talk.mp4", b"\0\x05\x16\x07 resource fork")
        zf.writestr(".DS_Store", b"\0\0\0\1Bud1")
        zf.writestr("media/Thumbs.db", b"\xd0\xcf\x11\xe0")
    names = safe_extract(archive, tmp_path / "out")
    assert not any("MACOSX" in n or "DS_Store" in n or "Thumbs" in n for n in names)
    assert not (tmp_path / "out" / "__MACOSX").exists()


# ---------------------------------------------------------------- names from Chinese Windows
def test_gbk_names_without_the_utf8_flag_extract_as_chinese(tmp_path, rawzip):
    members = [
        rawzip.Member("道路安全/media/头盔示意图.png".encode("gbk"), b"\x89PNG\r\n\x1a\n" + b"\0" * 20),
        rawzip.Member("道路安全/lessons/说明.md".encode("gbk"), "+++\n+++\n正文".encode()),
    ]
    archive = _zip(tmp_path, rawzip, members)
    with zipfile.ZipFile(archive) as zf:  # what a naive extractor would produce
        assert "头盔" not in zf.namelist()[0]
    names = safe_extract(archive, tmp_path / "out")
    assert names == ["道路安全/lessons/说明.md", "道路安全/media/头盔示意图.png"]
    assert (tmp_path / "out" / "道路安全" / "media" / "头盔示意图.png").is_file()


def test_utf8_flagged_names_are_kept(tmp_path, rawzip):
    member = rawzip.Member("media/安全帽.png".encode("utf-8"), b"\x89PNG\r\n\x1a\n", flags=0x800)
    assert safe_extract(_zip(tmp_path, rawzip, [member]), tmp_path / "out") == ["media/安全帽.png"]


def test_utf8_names_without_the_flag_are_recognized(tmp_path, rawzip):
    # macOS Archive Utility and some Linux tools write UTF-8 without setting bit 11
    member = rawzip.Member("media/安全帽.png".encode("utf-8"), b"\x89PNG\r\n\x1a\n")
    assert safe_extract(_zip(tmp_path, rawzip, [member]), tmp_path / "out") == ["media/安全帽.png"]


def test_info_zip_unicode_path_extra_field_wins(tmp_path):
    legacy = "media/????.png".encode("ascii")
    real = "media/反光背心.png".encode("utf-8")
    extra = struct.pack("<HHB", 0x7075, 5 + len(real), 1) + struct.pack("<I", zlib.crc32(legacy)) + real
    info = zipfile.ZipInfo("media/????.png")
    info.extra = extra
    archive = tmp_path / "extra.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(info, b"\x89PNG\r\n\x1a\n")
    assert safe_extract(archive, tmp_path / "out") == ["media/反光背心.png"]


def test_package_zipped_on_chinese_windows_loads(package, tmp_path, rawzip, media):
    """A course folder named in Chinese, zipped by Explorer (GBK names, no UTF-8 flag), with a
    Chinese media file name referenced from a lesson."""
    package.write("media/头盔示意图.png", media.png())
    package.replace("lessons/01-intro.md", "../media/helmet.png", "../media/头盔示意图.png")
    members = [
        rawzip.Member(("道路交通安全/" + path.relative_to(package.root).as_posix()).encode("gbk"), path.read_bytes())
        for path in sorted(package.root.rglob("*")) if path.is_file()
    ]
    with open_package(_zip(tmp_path, rawzip, members)) as pkg:
        assert pkg.root.name == "道路交通安全"
        assert "media/头盔示意图.png" in pkg.media_files()
        assert "头盔示意图.png" in pkg.lesson("01-intro").body_markdown


def test_special_files_are_refused(tmp_path, rawzip):
    device = rawzip.Member(b"media/dev.png", b"", external_attr=(stat.S_IFCHR | 0o644) << 16)
    assert _refused(_zip(tmp_path, rawzip, [device]), tmp_path) == {"archive-special-file"}

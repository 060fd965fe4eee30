"""export_zip writes a package that loads back as the same package."""
from __future__ import annotations

import zipfile

import pytest

from content import PackageInvalid, export_zip, load_package, open_package


def test_export_then_load_gives_an_equal_package(package, tmp_path):
    package.replace("course.toml", "hours = 1.5", 'hours = 1.5\nprerequisites = ["traffic-law"]')
    original = load_package(package.root)
    assert original.prerequisites == ("traffic-law",)
    out = export_zip(original, tmp_path / "export" / "road-safety.zip")
    with open_package(out) as reloaded:
        assert reloaded == original
        assert [lesson.digest for lesson in reloaded.lessons] == [lesson.digest for lesson in original.lessons]
        assert reloaded.media_files() == original.media_files()


def test_export_from_a_folder_path_validates_first(package, tmp_path):
    out = export_zip(package.root, tmp_path / "a.zip")
    assert load_package(out) == load_package(package.root)
    package.replace("course.toml", "hours = 1.5", "hours = 0")
    with pytest.raises(PackageInvalid):
        export_zip(package.root, tmp_path / "b.zip")
    assert not (tmp_path / "b.zip").exists()


def test_export_is_deterministic_and_holds_only_package_files(package, tmp_path):
    package.write("lessons/07-unused.md", "+++\ntitle = \"x\"\nduration = 60\n+++\nx\n")
    package.replace("course.toml", '"05-quiz.toml",', '"05-quiz.toml",\n    "07-unused.md",')
    pkg = load_package(package.root)
    first = export_zip(pkg, tmp_path / "1.zip").read_bytes()
    second = export_zip(pkg, tmp_path / "2.zip").read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "1.zip") as zf:
        names = zf.namelist()
    assert names[0] == "course.toml"
    assert set(names) == {"course.toml", *(lesson.source for lesson in pkg.lessons), *pkg.media_files()}


def test_chinese_media_names_are_written_as_utf8(package, tmp_path, media):
    package.write("media/头盔示意图.png", media.png())
    out = export_zip(load_package(package.root), tmp_path / "c.zip")
    with zipfile.ZipFile(out) as zf:
        info = zf.getinfo("media/头盔示意图.png")
    assert info.flag_bits & 0x800


def test_round_trip_of_a_zip_package(package, tmp_path):
    first = package.zip(tmp_path / "upload.zip", prefix="课程/")
    with open_package(first) as pkg:
        again = export_zip(pkg, tmp_path / "again.zip")
        with open_package(again) as reloaded:
            assert reloaded == pkg


def test_command_line_check_and_export(package, tmp_path, capsys):
    from content.__main__ import main
    assert main(["check", str(package.root)]) == 0
    assert "OK — road-safety 1.0.0, 5 lessons" in capsys.readouterr().out
    assert main(["export", str(package.root), str(tmp_path / "out.zip")]) == 0
    assert load_package(tmp_path / "out.zip") == load_package(package.root)
    package.replace("course.toml", "hours = 1.5", "hours = 0")
    assert main(["--locale", "en", "check", str(package.root)]) == 1
    assert "course.toml:7: [hours-out-of-range] Hours 0 out of range" in capsys.readouterr().out

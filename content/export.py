"""Writing a package back out as a .zip that load_package reads as the same package."""
from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

from content.model import CoursePackage
from content.package import COURSE_TOML, load_package

# Already-compressed formats gain nothing from Deflate; storing them keeps export fast.
_STORED_SUFFIXES = frozenset({".mp4", ".m4a", ".mp3", ".png", ".jpg", ".jpeg", ".webp"})
# A fixed timestamp makes the same package export to the same bytes.
_EPOCH = (1980, 1, 1, 0, 0, 0)


def export_zip(package: CoursePackage | str | os.PathLike[str], out_zip_path: str | os.PathLike[str],
               locale: str = "zh") -> Path:
    """Write `package` (a loaded CoursePackage, or a folder/zip path that is loaded and therefore
    validated first) to `out_zip_path`: course.toml, the course's lesson files and every file in
    media/, at the zip's root, names in UTF-8. The file appears whole or not at all."""
    if isinstance(package, CoursePackage):
        _write(package, Path(out_zip_path))
    else:
        with load_package(package, locale) as loaded:
            _write(loaded, Path(out_zip_path))
    return Path(out_zip_path)


def _write(package: CoursePackage, out: Path) -> None:
    names = [COURSE_TOML, *(lesson.source for lesson in package.lessons), *package.media_files()]
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f, zipfile.ZipFile(f, "w") as zf:
            for name in sorted(set(names)):
                info = zipfile.ZipInfo(name, date_time=_EPOCH)
                info.external_attr = 0o644 << 16
                stored = Path(name).suffix.lower() in _STORED_SUFFIXES
                info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                with (package.root / name).open("rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                    while chunk := src.read(1024 * 1024):
                        dst.write(chunk)
        os.replace(partial, out)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise

"""Validation and import of a large course package, next to a plain unzip of the same file.

    python bench/bench_content.py                   # 200 lessons, 100 MB of media
    python bench/bench_content.py --lessons 50 --media-mb 20

The package is written to a temporary folder: `--lessons` Markdown lessons, each with a PDF of
`media-mb / lessons` MB (PDF: the cheapest media type to make valid at any size, and its bytes
are hashed and sniffed like any other). Stored (not deflated) members, as real video courses
are. Reference: `zipfile.extractall` of the same zip into a fresh folder, in the same run.
Measured: `content.validate_path` (safe extraction + every check + digests) and the whole import
(`validate_path` + `import_package` into a fresh SQLite database, with the copy into the store).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from content import validate_path  # noqa: E402


def make_package(out: Path, lessons: int, media_mb: float) -> Path:
    per_file = int(media_mb * 1024 * 1024 / lessons)
    filler = b"%PDF-1.4\n" + b"0" * max(0, per_file - 9)
    names = [f"{i:03d}-lesson.md" for i in range(1, lessons + 1)]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("course.toml", "\n".join([
            "format = 1", 'id = "bench-course"', 'version = "1.0.0"', 'title = "基准测试课程"',
            'summary = "用于测量导入时间。"', 'category = "安全"', "hours = 10",
            "lessons = [" + ", ".join(f'"{n}"' for n in names) + "]", ""]))
        for i, name in enumerate(names, start=1):
            zf.writestr(f"lessons/{name}", f'+++\ntitle = "第{i}课"\nkind = "pdf"\nduration = "5m"\n'
                                           f'media = "media/doc-{i:03d}.pdf"\n+++\n\n第{i}课的说明。\n')
            zf.writestr(f"media/doc-{i:03d}.pdf", filler)
    return out


def timed(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lessons", type=int, default=200)
    parser.add_argument("--media-mb", type=float, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-content-"))
    try:
        package = make_package(work / "course.zip", args.lessons, args.media_mb)
        size_mb = package.stat().st_size / 1024 / 1024

        def unzip() -> None:
            target = Path(tempfile.mkdtemp(dir=work))
            with zipfile.ZipFile(package) as zf:
                zf.extractall(target)
            shutil.rmtree(target)

        def validate() -> None:
            pkg, problems = validate_path(package, workdir=work)
            assert pkg is not None, problems[:3]
            pkg.cleanup()

        from learning.app import create_app
        from learning.catalog.operations import import_package
        from learning.extensions import db

        def import_() -> None:
            instance = Path(tempfile.mkdtemp(dir=work))
            app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "bench",
                              "DATABASE_URL": f"sqlite:///{instance / 'bench.sqlite3'}"})
            with app.app_context():
                db.create_all()
                start = time.perf_counter()
                pkg, problems = validate_path(package, workdir=instance / "tmp")
                assert pkg is not None, problems[:3]
                with pkg:
                    import_package(pkg, store_root=instance / "courses", actor=None, publish=True)
                db.session.commit()
                elapsed.append(time.perf_counter() - start)
                db.session.remove()
                db.engine.dispose()
            shutil.rmtree(instance)

        elapsed: list[float] = []
        reference = timed(unzip, args.repeat)
        checked = timed(validate, args.repeat)
        for _ in range(args.repeat):
            import_()
        ref = statistics.median(reference)
        print(f"package: {args.lessons} lessons, {size_mb:.0f} MB stored zip; median of {args.repeat}")
        print(f"plain unzip (reference)     {ref:7.2f} s")
        print(f"validate_path               {statistics.median(checked):7.2f} s  ({statistics.median(checked) / ref:.1f}× unzip)")
        print(f"validate + import + commit  {statistics.median(elapsed):7.2f} s  ({statistics.median(elapsed) / ref:.1f}× unzip)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

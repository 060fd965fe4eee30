"""Command line for course authors: `python -m content check PATH` and `python -m content export`.

Course packages are written in a text editor long before anyone uploads them; checking one
locally gives the same problems, with the same lines, as the upload page."""
from __future__ import annotations

import argparse
import sys

from content.export import export_zip
from content.model import PackageInvalid
from content.package import validate_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m content", description="Hongfan course packages")
    parser.add_argument("--locale", choices=("zh", "en"), default="zh", help="language of problem messages")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="validate package folders or .zip files")
    check.add_argument("paths", nargs="+")
    export = commands.add_parser("export", help="validate a package and write it as a .zip")
    export.add_argument("path")
    export.add_argument("out")
    args = parser.parse_args(argv)

    if args.command == "check":
        failed = False
        for path in args.paths:
            pkg, problems = validate_path(path, args.locale)
            if pkg is not None:
                print(f"{path}: OK — {pkg.id} {pkg.version}, {len(pkg.lessons)} lessons")
                pkg.cleanup()
            else:
                failed = True
                for problem in problems:
                    print(f"{path}: {problem}")
        return 1 if failed else 0
    try:
        export_zip(args.path, args.out, args.locale)
    except PackageInvalid as exc:
        for problem in exc.problems:
            print(f"{args.path}: {problem}", file=sys.stderr)
        return 1
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Statistics benchmark: the dashboard query functions at city scale, each printed next to a
plain SQL count over the same subtree measured in the same run (DESIGN §8, issue 6 item 7).

    python bench/bench_stats.py                      # 100,000 members, 2,000 branches, 2,000 courses, 2,000,000 completions
    python bench/bench_stats.py --scale 0.05         # a quick run (5,000 members, 100,000 completions)
    python bench/bench_stats.py --db postgresql --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/hf_bench

The tree has 5 levels: academy → 5 districts → 100 streets → 400 general branches → 2,000
branches (branches stay 2,000 at every scale; members per branch scale). A district holds a
fifth of the members (20,000 at full size). Data are generated in code and bulk-inserted
(executemany on SQLite, COPY on PostgreSQL).

Targets (full size): one branch's dashboard p95 ≤ 50 ms; a 20,000-member district ≤ 300 ms;
the whole academy ≤ 1 s; the academy member-list .xlsx ≤ 10 s.
"""
from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text  # noqa: E402

from learning import create_app  # noqa: E402
from learning.extensions import db  # noqa: E402
from learning.orgs.models import Organization  # noqa: E402
from learning.orgs.queries import subtree_condition  # noqa: E402
from learning.stats import exports  # noqa: E402
from learning.stats.queries import Period, summary  # noqa: E402
from learning.stats.tables import Context, build  # noqa: E402
from learning.study.models import CourseCompletion  # noqa: E402

YEAR = 2025
TODAY = date(YEAR, 12, 20)
TARGETS = {"branch_p95_ms": 50.0, "district_ms": 300.0, "academy_ms": 1000.0, "xlsx_s": 10.0}
DASHBOARD = ("children", "behind", "assignments", "overdue", "courses", "occupations", "ages", "ranking",
             "offline", "members", "trend")
OCCUPATIONS = ("快递员", "外卖骑手", "货车司机", "网约车司机", "主播", "平台企业员工", "其他")
CATEGORIES = ("理论学习", "党史", "政策法规", "职业技能", "安全", "权益保障")


def dashboard(org: Organization, period: Period) -> None:
    """What the dashboard view computes: the summary and every table (member lists: page 1)."""
    stats = summary(org, period, today=TODAY)
    for name in DASHBOARD:
        build(name, Context(org, period, TODAY, 1 if name in ("behind", "members") else None, stats))


def baseline(org: Organization, period: Period) -> None:
    """A plain SQL count of the subtree's completions in the year, the same path-range filter."""
    db.session.scalar(select(func.count()).select_from(CourseCompletion)
                      .join(Organization, Organization.id == CourseCompletion.org_id)
                      .where(subtree_condition(Organization.path, org.path), CourseCompletion.year == period.year))


def timed(fn, *args, repeat: int = 1) -> list[float]:
    out = []
    for _ in range(repeat):
        db.session.rollback()
        start = time.perf_counter()
        fn(*args)
        out.append((time.perf_counter() - start) * 1000)
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


# --- generation ---------------------------------------------------------------------------------

def generate(scale: float, seed: int = 7):
    """Rows for every table, as tuples in column order (ids assigned here)."""
    rng = random.Random(seed)
    orgs = []  # (id, code, name, kind, parent_id, path, depth)
    next_id = iter(range(1, 10**7))

    def node(parent, kind, code):
        oid = next(next_id)
        path = f"{parent[5] if parent else '/'}{oid}/"
        row = (oid, code, f"组织{code}", kind, parent[0] if parent else None, path, (parent[6] + 1) if parent else 0)
        orgs.append(row)
        return row

    root = node(None, "committee", "R")
    branches = []
    for d in range(5):
        district = node(root, "committee", f"D{d}")
        for s in range(20):
            street = node(district, "committee", f"D{d}S{s}")
            for g in range(4):
                general = node(street, "general_branch", f"D{d}S{s}G{g}")
                for b in range(5):
                    branches.append(node(general, "branch", f"D{d}S{s}G{g}B{b}"))
    n_members = int(100_000 * scale)
    n_courses = max(50, int(2_000 * scale)) if scale < 1 else 2_000
    per_member = 20
    members, counters, completions, grants = [], [], [], []
    start = datetime(YEAR, 1, 1)
    cid = 0
    for mid in range(1, n_members + 1):
        branch = branches[mid % len(branches)]
        members.append((mid, f"党员{mid}", f"13{mid:09d}", 1960 + rng.randrange(45), rng.choice(OCCUPATIONS),
                        branch[0]))
        if mid <= len(branches):
            grants.append((mid, branch[0], "secretary"))
        hours, last = 0.0, None
        for course in rng.sample(range(1, n_courses + 1), per_member):
            cid += 1
            at = start + timedelta(seconds=rng.randrange(350 * 86400))
            h = rng.choice((0.5, 1.0, 1.5, 2.0))
            hours += h
            last = at if last is None or at > last else last
            completions.append((cid, mid, course, branch[0], YEAR, at, h, rng.choice(CATEGORIES), "online"))
        counters.append((mid, YEAR, hours, rng.randrange(500), per_member, last))
    courses = [(i, f"course-{i}", "1.0.0", f"课程{i}", "", rng.choice(CATEGORIES), 1.0, "published")
               for i in range(1, n_courses + 1)]
    return {"orgs": orgs, "members": members, "courses": courses, "grants": grants, "counters": counters,
            "completions": completions, "district": orgs[1], "branches": branches}


COLUMNS = {
    "organization": ("id", "code", "name", "kind", "parent_id", "path", "depth"),
    "member": ("id", "name", "phone", "birth_year", "occupation", "home_org_id"),
    "course": ("id", "slug", "version", "title", "summary", "category", "hours", "status"),
    "role_grant": ("member_id", "org_id", "role"),
    "member_year": ("member_id", "year", "hours", "points", "courses_done", "last_active_at"),
    "course_completion": ("id", "member_id", "course_id", "org_id", "year", "completed_at", "hours", "category",
                          "source"),
}
DEFAULTS = {  # NOT NULL columns the generator does not vary
    "organization": {"created_at": datetime(2020, 1, 1)},
    "member": {"member_kind": "full", "active": True, "session_version": 1, "must_change_password": False,
               "created_at": datetime(2020, 1, 1)},
    "course": {"audience": "[]", "tags": "[]", "created_at": datetime(2020, 1, 1)},
    "role_grant": {"granted_at": datetime(2020, 1, 1)},
}


def load(data) -> None:
    tables = [("organization", data["orgs"]), ("member", data["members"]), ("course", data["courses"]),
              ("role_grant", data["grants"]), ("member_year", data["counters"]),
              ("course_completion", data["completions"])]
    course_cols = {c.name for c in db.metadata.tables["course"].columns}
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if db.engine.dialect.name == "sqlite":
            cursor.execute("BEGIN")  # the app's connections run in autocommit mode: one transaction here
        for name, rows in tables:
            extra = {k: v for k, v in DEFAULTS.get(name, {}).items()
                     if name != "course" or k in course_cols}
            for column in db.metadata.tables[name].columns:  # any other NOT NULL column of a newer schema
                if (not column.nullable and column.name not in COLUMNS[name] and column.name not in extra
                        and not column.primary_key and column.server_default is None):
                    extra[column.name] = _neutral(column)
            cols = COLUMNS[name] + tuple(extra)
            tail = tuple(extra.values())
            if db.engine.dialect.name == "postgresql":
                with cursor.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row + tail)
            else:
                marks = ", ".join("?" for _ in cols)
                cursor.executemany(f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({marks})",
                                   (tuple(_sqlite(v) for v in row + tail) for row in rows))
        raw.commit()
        if db.engine.dialect.name == "postgresql":
            for name, _ in tables:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                               f"(SELECT coalesce(max(id), 1) FROM {name}))"
                               if "id" in db.metadata.tables[name].c else "SELECT 1")
        raw.commit()
        if db.engine.dialect.name == "postgresql":
            raw.driver_connection.autocommit = True  # VACUUM: the visibility map that index-only scans need (autovacuum's job in production)
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
            raw.commit()
    finally:
        raw.close()


def _sqlite(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _neutral(column):
    kind = column.type.python_type if hasattr(column.type, "python_type") else str
    return {bool: False, int: 0, float: 0.0, str: ""}.get(kind, "")


# --- the run ---------------------------------------------------------------------------------

def run(url: str, scale: float, data, label: str) -> dict:
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": instance, "SECRET_KEY": "bench"})
        with app.test_request_context():
            db.drop_all()
            db.create_all()
            started = time.perf_counter()
            load(data)
            print(f"[{label}] loaded {len(data['members']):,} members, {len(data['orgs']):,} orgs, "
                  f"{len(data['courses']):,} courses, {len(data['completions']):,} completions "
                  f"in {time.perf_counter() - started:.1f} s", flush=True)
            period = Period(YEAR)
            get = lambda code: db.session.scalar(select(Organization).where(Organization.code == code))  # noqa: E731
            rng = random.Random(1)
            branch_codes = [b[1] for b in rng.sample(data["branches"], 40)]
            branches = [get(c) for c in branch_codes]
            district, academy = get(data["district"][1]), get("R")
            dashboard(branches[0], period)  # warm caches
            results = {}
            b_dash = [timed(dashboard, b, period)[0] for b in branches]
            b_base = [timed(baseline, b, period)[0] for b in branches]
            results["branch"] = (p95(b_dash), p95(b_base))
            for name, org in (("district", district), ("academy", academy)):
                dash = timed(dashboard, org, period, repeat=3)
                base = timed(baseline, org, period, repeat=3)
                results[name] = (statistics.median(dash), statistics.median(base))
            start = time.perf_counter()
            table = build("members", Context(academy, period, TODAY))
            queried = time.perf_counter() - start
            payload = exports.to_xlsx(table, "bench")
            results["xlsx"] = (time.perf_counter() - start, len(table.rows), len(payload), queried)
            members = db.session.scalar(text("SELECT count(*) FROM member m JOIN organization o ON o.id = m.home_org_id "
                                             "WHERE o.path >= :p AND o.path < :q"),
                                        {"p": district.path, "q": district.path[:-1] + "0"})
            db.session.rollback()
            db.drop_all()
    print(f"[{label}] branch dashboard    p95 {results['branch'][0]:8.1f} ms   (plain count p95 "
          f"{results['branch'][1]:6.1f} ms)   target ≤ {TARGETS['branch_p95_ms']:g} ms")
    print(f"[{label}] district dashboard      {results['district'][0]:8.1f} ms   (plain count "
          f"{results['district'][1]:6.1f} ms)   {members:,} members, target ≤ {TARGETS['district_ms']:g} ms")
    print(f"[{label}] academy dashboard       {results['academy'][0]:8.1f} ms   (plain count "
          f"{results['academy'][1]:6.1f} ms)   target ≤ {TARGETS['academy_ms']:g} ms")
    print(f"[{label}] academy member .xlsx    {results['xlsx'][0]:8.2f} s    {results['xlsx'][1]:,} rows, "
          f"{results['xlsx'][2] / 1e6:.1f} MB (query {results['xlsx'][3]:.2f} s)   target ≤ {TARGETS['xlsx_s']:g} s", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 100,000 members (default 1)")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/hf_bench")
    args = parser.parse_args()
    started = time.perf_counter()
    data = generate(args.scale)
    print(f"generated in {time.perf_counter() - started:.1f} s", flush=True)
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            run(f"sqlite:///{folder}/bench.sqlite3", args.scale, data, "sqlite")
    if args.db in ("postgresql", "both"):
        run(args.pg_url, args.scale, data, "postgresql")


if __name__ == "__main__":
    main()

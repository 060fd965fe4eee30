"""Statistics benchmark: the dashboards at city scale, each figure printed next to a plain SQL
count over the same subtree measured in the same run (DESIGN §8, issue 6).

    python bench/bench_stats.py                      # 100,000 members, 2,000 branches, 2,000 courses, 2,000,000 completions
    python bench/bench_stats.py --scale 0.05         # a quick run (5,000 members, 100,000 completions)
    python bench/bench_stats.py --db postgresql --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/hf_bench
    python bench/bench_stats.py --keep /tmp/bench    # keep the databases (SQLite file there, PostgreSQL
                                                     # tables) and reuse them on the next run with --keep

The tree has 5 levels: academy → 5 districts → 100 streets → 400 general branches → 2,000
branches (branches stay 2,000 at every scale; members per branch scale). A district holds a
fifth of the members (20,000 at full size). Each member has 20 completions in the year (and
their MemberYear counters), one offline session per branch is attended by its members, and
assignments bind everyone (2 academy-wide, 1 per district, 1 in every 20th branch, those past
due). Data are generated in code and bulk-inserted (executemany on SQLite, COPY on PostgreSQL);
the roll-ups are then backfilled from the credits the way `hongfan stats reconcile --fix`
rebuilds them.

Each level is timed twice: "data" is what the dashboard view computes (the figures and every
table, paged tables' first page), "page" is the whole GET /orgs/<code>/dashboard through the
app (login, authorization, the data, the HTML). Branches: p95 over --branches random ones;
district and academy: median of --repeat. The reference is a plain count(*) of the subtree's
completions of the year, same path-range filter, measured right after.

Targets (full size): one branch's dashboard p95 ≤ 50 ms; a 20,000-member district ≤ 300 ms;
the whole academy ≤ 1 s; the academy member-list .xlsx ≤ 10 s.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_login import FlaskLoginClient  # noqa: E402
from sqlalchemy import JSON, event, func, inspect, select, text  # noqa: E402

from learning import create_app  # noqa: E402
from learning.extensions import db  # noqa: E402
from learning.orgs.models import Member, Organization  # noqa: E402
from learning.orgs.queries import subtree_condition  # noqa: E402
from learning.stats import exports  # noqa: E402
from learning.stats.queries import Figures, Period  # noqa: E402
from learning.stats.tables import Context, build  # noqa: E402
from learning.stats.views import DASHBOARD, PAGED  # noqa: E402
from learning.study import rollups  # noqa: E402
from learning.study.models import CourseCompletion  # noqa: E402

YEAR = 2025
TODAY = date(YEAR, 12, 20)
TARGETS = {"branch": 50.0, "district": 300.0, "academy": 1000.0, "xlsx": 10.0}
OCCUPATIONS = ("快递员", "外卖骑手", "货车司机", "网约车司机", "主播", "平台企业员工", "其他")
CATEGORIES = ("理论学习", "党史", "政策法规", "职业技能", "安全", "权益保障")
KINDS = ("full",) * 85 + ("probationary",) * 5 + ("candidate",) * 4 + ("activist",) * 3 + ("masses",) * 3


def dashboard_data(org: Organization, period: Period) -> None:
    """What the dashboard view computes: the figures and every table (paged ones: page 1)."""
    figures = Figures(org, period, TODAY)
    for name in DASHBOARD + ("trend",):
        build(name, Context(org, period, TODAY, 1 if name in PAGED else None, figures))


def baseline(org: Organization, period: Period) -> None:
    """A plain SQL count of the subtree's completions in the year, the same path-range filter."""
    db.session.scalar(select(func.count()).select_from(CourseCompletion)
                      .join(Organization, Organization.id == CourseCompletion.org_id)
                      .where(subtree_condition(Organization.path, org.path), CourseCompletion.year == period.year))


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
    districts, branches = [], []
    for d in range(5):
        district = node(root, "committee", f"D{d}")
        districts.append(district)
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
    by_branch: dict[int, list[int]] = {}
    hours_of: dict[int, float] = {}
    for mid in range(1, n_members + 1):
        branch = branches[mid % len(branches)]
        by_branch.setdefault(branch[0], []).append(mid)
        members.append((mid, f"党员{mid}", f"13{mid:09d}", 1960 + rng.randrange(45), rng.choice(OCCUPATIONS),
                        branch[0], rng.choice(KINDS)))
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
        hours_of[mid] = hours
        counters.append([mid, YEAR, hours, rng.randrange(500), per_member, last])
    admin = n_members + 1  # the academy administrator whose session loads the pages
    members.append((admin, "学院管理员", "19900000000", 1980, "其他", root[0], "full"))
    grants.append((admin, root[0], "academy_admin"))
    courses = [(i, f"course-{i}", "1.0.0", f"课程{i}", "", rng.choice(CATEGORIES), 1.0, "published")
               for i in range(1, n_courses + 1)]
    assignments = [(1, root[0], 1, date(YEAR, 12, 31)), (2, root[0], 2, date(YEAR, 12, 31))]
    for d, district in enumerate(districts):
        assignments.append((len(assignments) + 1, district[0], 3 + d, date(YEAR, 12, 31)))
    for b, branch in enumerate(branches[::20]):
        assignments.append((len(assignments) + 1, branch[0], rng.randrange(1, n_courses + 1), date(YEAR, 11, 30)))
    sessions, attendances = [], []
    for i, branch in enumerate(branches):  # one confirmed offline session per branch, everyone attends
        held = date(YEAR, 1 + i % 11, 15)
        sessions.append((i + 1, branch[0], "集中学习", "study", held, 2.0, "理论学习"))
        for mid in by_branch.get(branch[0], []):
            attendances.append((len(attendances) + 1, i + 1, mid, branch[0], YEAR, 2.0, "理论学习"))
            counters[mid - 1][2] += 2.0
    return {"orgs": orgs, "members": members, "courses": courses, "grants": grants,
            "counters": [tuple(c) for c in counters], "completions": completions, "assignments": assignments,
            "sessions": sessions, "attendances": attendances,
            "district": districts[0], "branches": branches, "admin": admin}


COLUMNS = {
    "organization": ("id", "code", "name", "kind", "parent_id", "path", "depth"),
    "member": ("id", "name", "phone", "birth_year", "occupation", "home_org_id", "member_kind"),
    "course": ("id", "slug", "version", "title", "summary", "category", "hours", "status"),
    "role_grant": ("member_id", "org_id", "role"),
    "member_year": ("member_id", "year", "hours", "points", "courses_done", "last_active_at"),
    "course_completion": ("id", "member_id", "course_id", "org_id", "year", "completed_at", "hours", "category",
                          "source"),
    "assignment": ("id", "org_id", "course_id", "due_on"),
    "offline_session": ("id", "org_id", "title", "kind", "held_on", "hours", "category"),
    "offline_attendance": ("id", "session_id", "member_id", "org_id", "year", "hours", "category"),
}
SOURCES = {"organization": "orgs", "member": "members", "course": "courses", "role_grant": "grants",
           "member_year": "counters", "course_completion": "completions", "assignment": "assignments",
           "offline_session": "sessions", "offline_attendance": "attendances"}
DEFAULTS = {  # NOT NULL columns the generator does not vary
    "organization": {"created_at": datetime(2020, 1, 1)},
    "member": {"active": True, "session_version": 1, "must_change_password": False,
               "created_at": datetime(2020, 1, 1)},
    "course": {"audience": "[]", "tags": "[]", "created_at": datetime(2020, 1, 1)},
    "role_grant": {"granted_at": datetime(2020, 1, 1)},
    "assignment": {"created_at": datetime(YEAR, 1, 1)},
    "offline_session": {"created_at": datetime(YEAR, 1, 1)},
    "offline_attendance": {"credited_at": datetime(YEAR, 1, 1)},
}


def load(data) -> None:
    course_cols = {c.name for c in db.metadata.tables["course"].columns}
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if db.engine.dialect.name == "sqlite":
            cursor.execute("BEGIN")  # the app's connections run in autocommit mode: one transaction here
        for name, source in SOURCES.items():
            rows = data[source]
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
            for name in SOURCES:
                if "id" in db.metadata.tables[name].c:
                    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                   f"(SELECT coalesce(max(id), 1) FROM {name}))")
        raw.commit()
    finally:
        raw.close()
    started = time.perf_counter()
    rollups.replace_all(*rollups.expected_rows())
    db.session.commit()
    print(f"    roll-ups backfilled from the credits in {time.perf_counter() - started:.1f} s", flush=True)
    analyze()


def analyze() -> None:
    raw = db.engine.raw_connection()
    try:
        if db.engine.dialect.name == "postgresql":
            raw.driver_connection.autocommit = True  # VACUUM: the visibility map that index-only scans need (autovacuum's job in production)
            raw.cursor().execute("VACUUM ANALYZE")
        else:
            raw.cursor().execute("ANALYZE")
            raw.commit()
    finally:
        raw.close()


def _sqlite(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _neutral(column):
    if isinstance(column.type, JSON):
        return "[]"
    kind = column.type.python_type if hasattr(column.type, "python_type") else str
    return {bool: False, int: 0, float: 0.0, str: ""}.get(kind, "")


def loaded(data) -> bool:
    """The database already holds this data set, in the current schema (every table and index
    of the models): a kept database from an earlier run."""
    found = inspect(db.engine)
    tables = set(found.get_table_names())
    for table in db.metadata.sorted_tables:
        if table.name not in tables or not {i.name for i in table.indexes} <= {
                i["name"] for i in found.get_indexes(table.name)}:
            return False
    return (db.session.scalar(select(func.count()).select_from(CourseCompletion)) == len(data["completions"])
            and db.session.scalar(select(func.count()).select_from(Member)) == len(data["members"]))


# --- the run ---------------------------------------------------------------------------------

@contextmanager
def counting(engine):
    """Statements and their time, counted by cursor events (the profile lines of --detail)."""
    found = {"n": 0, "s": 0.0}

    def before(conn, *_):
        conn.info["bench_t0"] = time.perf_counter()

    def after(conn, *_):
        found["n"] += 1
        found["s"] += time.perf_counter() - conn.info.pop("bench_t0", time.perf_counter())

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def run(url: str, data, label: str, args) -> dict:
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": instance, "SECRET_KEY": "bench",
                          "RATELIMIT_ENABLED": False})
        app.test_client_class = FlaskLoginClient
        with app.app_context():
            if args.keep and loaded(data):
                print(f"[{label}] reusing the kept database", flush=True)
            else:
                db.drop_all()
                db.create_all()
                started = time.perf_counter()
                load(data)
                print(f"[{label}] loaded {len(data['members']):,} members, {len(data['orgs']):,} orgs, "
                      f"{len(data['courses']):,} courses, {len(data['completions']):,} completions, "
                      f"{len(data['attendances']):,} attendances, {len(data['assignments']):,} assignments "
                      f"in {time.perf_counter() - started:.1f} s", flush=True)
            codes = [b[1] for b in random.Random(1).sample(data["branches"], args.branches)]
            ids = dict(db.session.execute(select(Organization.code, Organization.id)).all())
            admin = db.session.get(Member, data["admin"])
            db.session.expunge(admin)
            district_members = db.session.scalar(text(
                "SELECT count(*) FROM member m JOIN organization o ON o.id = m.home_org_id "
                "WHERE o.path >= :p AND o.path < :q"), {"p": data["district"][5], "q": data["district"][5][:-1] + "0"})
            db.session.rollback()
        period = Period(YEAR)
        client = app.test_client(user=admin)

        def data_ms(code: str) -> float:
            with app.test_request_context():
                org = db.session.get(Organization, ids[code])
                start = time.perf_counter()
                dashboard_data(org, period)
                return (time.perf_counter() - start) * 1000

        def page_ms(code: str) -> float:
            start = time.perf_counter()
            response = client.get(f"/orgs/{code}/dashboard?year={YEAR}")
            took = (time.perf_counter() - start) * 1000
            assert response.status_code == 200, response.status_code
            return took

        def base_ms(code: str) -> float:
            with app.test_request_context():
                org = db.session.get(Organization, ids[code])
                start = time.perf_counter()
                baseline(org, period)
                return (time.perf_counter() - start) * 1000

        page_ms(codes[0]), data_ms(codes[0]), base_ms(codes[0])  # warm caches
        results = {}
        rows = [(data_ms(c), page_ms(c), base_ms(c)) for c in codes]
        results["branch"] = tuple(p95([r[i] for r in rows]) for i in range(3))
        for level, code in (("district", data["district"][1]), ("academy", "R")):
            rows = [(data_ms(code), page_ms(code), base_ms(code)) for _ in range(args.repeat)]
            results[level] = tuple(statistics.median([r[i] for r in rows]) for i in range(3))
        if args.detail:
            detail(app, ids, period, data)
        times = []
        for _ in range(args.repeat if args.xlsx_repeat else 1):
            with app.test_request_context():
                academy = db.session.get(Organization, ids["R"])
                start = time.perf_counter()
                with counting(db.engine) as sql:
                    table = build("members", Context(academy, period, TODAY))
                queried = time.perf_counter() - start
                payload = exports.to_xlsx(table, "bench")
                times.append((time.perf_counter() - start, len(table.rows), len(payload), queried, sql["s"]))
        results["xlsx"] = sorted(times)[len(times) // 2]
        start = time.perf_counter()
        response = client.get(f"/orgs/R/dashboard/export?table=members&format=xlsx&year={YEAR}")
        assert response.status_code == 200
        results["xlsx_http"] = time.perf_counter() - start
        with app.app_context():
            if not args.keep:
                db.drop_all()
            db.session.remove()
            db.engine.dispose()
    load_avg = os.getloadavg()[0]
    b, d, a, x = results["branch"], results["district"], results["academy"], results["xlsx"]
    print(f"[{label}] branch   p95   data {b[0]:7.1f} ms   page {b[1]:7.1f} ms   (plain count p95 {b[2]:6.1f} ms)"
          f"   target ≤ {TARGETS['branch']:g} ms")
    print(f"[{label}] district       data {d[0]:7.1f} ms   page {d[1]:7.1f} ms   (plain count {d[2]:6.1f} ms)"
          f"   {district_members:,} members, target ≤ {TARGETS['district']:g} ms")
    print(f"[{label}] academy        data {a[0]:7.1f} ms   page {a[1]:7.1f} ms   (plain count {a[2]:6.1f} ms)"
          f"   target ≤ {TARGETS['academy']:g} ms")
    print(f"[{label}] academy member .xlsx {x[0]:6.2f} s (query + rows {x[3]:.2f} s, of it SQL {x[4]:.2f} s; "
          f"{x[1]:,} rows, {x[2] / 1e6:.1f} MB); whole download {results['xlsx_http']:.2f} s   "
          f"(academy plain count {a[2]:.0f} ms)   target ≤ {TARGETS['xlsx']:g} s")
    print(f"[{label}] load average {load_avg:.1f}", flush=True)
    return results


def detail(app, ids, period, data) -> None:
    """Per table: time and statements, for one branch, the district and the academy."""
    for code in (data["branches"][0][1], data["district"][1], "R"):
        with app.test_request_context():
            org = db.session.get(Organization, ids[code])
            figures = Figures(org, period, TODAY)
            parts = []
            for name in DASHBOARD + ("trend",):
                with counting(db.engine) as sql:
                    start = time.perf_counter()
                    build(name, Context(org, period, TODAY, 1 if name in PAGED else None, figures))
                    parts.append(f"{name} {(time.perf_counter() - start) * 1000:.1f}/{sql['n']}")
            print(f"    {code}: " + ", ".join(parts) + "   (ms/statements, in page order)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 100,000 members (default 1)")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/hf_bench")
    parser.add_argument("--branches", type=int, default=40, help="random branches timed for the p95")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the district and academy (median)")
    parser.add_argument("--xlsx-repeat", action="store_true", help="median of --repeat exports, not one")
    parser.add_argument("--keep", metavar="FOLDER", help="keep the databases (SQLite file in FOLDER) and reuse them")
    parser.add_argument("--detail", action="store_true", help="print each table's time and statement count")
    args = parser.parse_args()
    started = time.perf_counter()
    data = generate(args.scale)
    print(f"generated in {time.perf_counter() - started:.1f} s", flush=True)
    if args.db in ("sqlite", "both"):
        if args.keep:
            Path(args.keep).mkdir(parents=True, exist_ok=True)
            run(f"sqlite:///{Path(args.keep).resolve()}/bench-{args.scale:g}.sqlite3", data, "sqlite", args)
        else:
            with tempfile.TemporaryDirectory() as folder:
                run(f"sqlite:///{folder}/bench.sqlite3", data, "sqlite", args)
    if args.db in ("postgresql", "both"):
        run(args.pg_url, data, "postgresql", args)


if __name__ == "__main__":
    main()

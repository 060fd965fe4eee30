"""Load: members and secretaries against gunicorn, next to a bare Flask handler served the same way.

    python bench/bench_load.py                          # SQLite, then PostgreSQL when reachable
    python bench/bench_load.py --db sqlite --duration 20
    python bench/bench_load.py --db postgres --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

For each database: a fresh instance holding the demo city (`hongfan demo --no-serve`: 270 members
in 14 branches, 16 courses, a year of history, a trained model); PostgreSQL gets a database of its
own, dropped afterwards. Then, one server at a time on the same port settings
(gunicorn, gthread workers — `--workers 2 --threads 8` as the README's production command):

1. bare    the reference, bench/load/bare.py (one Flask route returning a short string),
           16 locust users in a closed loop (no pause between requests) for --duration seconds;
2. home    the academy, 16 logged-in members in the same closed loop on the home page (`/`);
           bare and home alternate for --rounds rounds and their medians are compared;
   paced   the same 16 members, each opening the home page every 0.5 s (latency below saturation);
3. mixed   14 members (log in, home page, plan JSON, continue a lesson, study events, a quiz)
           and 2 secretaries (dashboard, .xlsx export), short pauses, for --duration seconds;
4. storm   200 members fetch the login form, wait for each other, and post it at the same moment.

Prints requests/s and p50/p95/p99 for every endpoint, the home page's throughput as a share of
the bare handler's, and the login storm (served, first-to-last seconds, slowest answer).
Targets (issue 9, 2-core machine): home ≥ 25 % of bare throughput with p95 ≤ 50 ms at 16
clients; 200 simultaneous logins all served within 10 s.

The load generator (locust, one process) runs on the same machine as the server: both runs pay
for it alike, which is why the home page is quoted as a share of the bare handler.
Successful logins do not count against the per-address login limit (only failures do), so the
storm from one address needs no change of settings.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOAD = ROOT / "bench" / "load"
sys.path.insert(0, str(ROOT))

from benchdb import temporary_database  # noqa: E402  (bench/, the script's folder)

PASSWORD = "hongfan"  # the demo's password (learning/demo.py)
PACE_S = 0.5  # PacedHomePageUser in bench/load/locustfile.py


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HONGFAN_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["HONGFAN_SESSION_COOKIE_SECURE"] = "false"  # plain http on loopback: Secure cookies would not come back
    env.update(extra)
    return env


def postgres_reachable(admin_url: str) -> bool:
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine(admin_url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def prepare(url: str, instance: Path) -> dict:
    """The demo city in a fresh instance; then who logs in and which quizzes they take."""
    env = clean_env(HONGFAN_DATABASE_URL=url, HONGFAN_INSTANCE_PATH=str(instance),
                    HONGFAN_SECRET_KEY="load-bench-secret")
    started = time.perf_counter()
    made = subprocess.run([sys.executable, "-m", "learning", "demo", "--no-serve"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if made.returncode:
        raise RuntimeError(f"hongfan demo failed: {made.stderr[-3000:]}")
    seconds = time.perf_counter() - started

    from sqlalchemy import select

    from learning import create_app
    from learning.catalog.models import Course, CourseStatus, Lesson
    from learning.catalog.queries import can_view_course
    from learning.extensions import db
    from learning.orgs.models import Member, Organization, RoleGrant

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "load-bench-secret"})
    with app.app_context():
        managers = set(db.session.scalars(select(RoleGrant.member_id)))
        members = [m for m in db.session.scalars(select(Member).where(Member.active).order_by(Member.id))
                   if m.id not in managers and not m.must_change_password]
        secretaries = db.session.execute(
            select(Member.phone, Organization.code).join(RoleGrant, RoleGrant.member_id == Member.id)
            .join(Organization, Organization.id == RoleGrant.org_id)
            .where(RoleGrant.role == "secretary", Organization.kind == "branch").order_by(Organization.code)).all()
        quizzes = db.session.execute(
            select(Course, Lesson.slug).join(Lesson, Lesson.course_id == Course.id)
            .where(Course.status == CourseStatus.PUBLISHED, Lesson.kind == "quiz", Lesson.retired.is_(False))).all()
        # only quizzes every member in the pool may open (courses limited to learner kinds are left out)
        quiz_paths = [f"/courses/{course.slug}/lessons/{slug}" for course, slug in quizzes
                      if all(can_view_course(m, course) for m in members)]
        counts = {"member_rows": db.session.scalar(select(db.func.count()).select_from(Member)),
                  "course_rows": db.session.scalar(select(db.func.count()).select_from(Course))}
        db.engine.dispose()
    return {"password": PASSWORD, "members": [m.phone for m in members],
            "secretaries": [list(row) for row in secretaries], "quiz_paths": quiz_paths,
            "prepare_s": seconds, **counts}


class Gunicorn:
    """One gunicorn in its own process group, stopped with SIGTERM (then SIGKILL)."""

    def __init__(self, app: str, cwd: Path, env: dict[str, str], workers: int, threads: int, log: Path) -> None:
        self.port = free_port()
        self.log = log
        with log.open("ab") as sink:  # the server's error log: counted in the report, not printed
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--workers", str(workers),
                 "--threads", str(threads), "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning", app],
                cwd=cwd, env=env, start_new_session=True, stdout=sink, stderr=sink)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.url + "/login" if "learning" in app else self.url, timeout=5):
                    break
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"gunicorn {app} did not start")
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class CpuSampler:
    """Samples the CPU seconds used so far by a gunicorn master and its workers, five times a
    second, so the CPU one run of requests cost the server can be read afterwards. CPU per
    request moves much less with the machine's other load than requests per second do."""

    def __init__(self, pid: int) -> None:
        import psutil  # a dependency of locust

        self.master = psutil.Process(pid)
        self.samples: list[tuple[float, float]] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def total(self) -> float:
        import psutil

        seconds = 0.0
        try:
            processes = [self.master, *self.master.children(recursive=True)]
        except psutil.NoSuchProcess:
            return self.samples[-1][1] if self.samples else 0.0
        for process in processes:
            try:
                times = process.cpu_times()
                seconds += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return seconds

    def _run(self) -> None:
        while not self.stopped.wait(0.2):
            self.samples.append((time.time(), self.total()))

    def used_since(self, moment: float) -> float:
        """CPU seconds from the first sample at or after `moment` to now."""
        now = self.total()
        start = next((cpu for at, cpu in self.samples if at >= moment), now)
        return now - start

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()


def locust(host: str, classes: list[str], users: int, seconds: int, workdir: Path, tag: str,
           targets: Path, reset: bool = True) -> tuple[dict[str, dict], dict | None]:
    """Run locust headless; the stats rows by endpoint name, and the storm's result file if any."""
    prefix = workdir / tag
    result = workdir / f"{tag}-result.json"
    command = [sys.executable, "-m", "locust", "-f", str(LOAD / "locustfile.py"), "--headless", "--host", host,
               "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--csv", str(prefix), "--only-summary",
               *(["--reset-stats"] if reset else []), "--loglevel", "ERROR", "--stop-timeout", "10", *classes]
    env = clean_env(HONGFAN_LOAD_TARGETS=str(targets), HONGFAN_LOAD_RESULT=str(result))
    completed = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    stats_file = Path(f"{prefix}_stats.csv")
    if not stats_file.is_file():
        raise RuntimeError(f"locust wrote no statistics ({completed.returncode}): {completed.stderr[-2000:]}")
    with stats_file.open(newline="") as fh:
        rows = {row["Name"]: row for row in csv.DictReader(fh)}
    failures = workdir / f"{tag}_failures.csv"
    if failures.is_file():
        with failures.open(newline="") as fh:
            for row in csv.DictReader(fh):
                rows.setdefault("_failures", {}).setdefault(row["Name"], []).append(
                    f"{row['Occurrences']}× {row['Error'][:160]}")
    return rows, (json.loads(result.read_text()) if result.is_file() else None)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(round(p / 100 * (len(sorted_values) - 1))))]


def figures(row: dict) -> dict:
    def number(key: str) -> float:
        value = row.get(key, "N/A")
        return float(value) if value not in ("N/A", "", None) else float("nan")

    return {"requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
            "rps": number("Requests/s"), "p50": number("50%"), "p95": number("95%"), "p99": number("99%"),
            "max": number("Max Response Time")}


def line(name: str, f: dict) -> str:
    cpu = f"{f['cpu_ms']:9.2f}" if "cpu_ms" in f else ""
    return (f"  {name:42} {f['requests']:7d} {f['failures']:6d} {f['rps']:8.1f} {f['p50']:7.0f} {f['p95']:7.0f}"
            f" {f['p99']:7.0f} {f['max']:8.0f}{cpu}")


HEADER = (f"  {'endpoint':42} {'reqs':>7} {'fails':>6} {'req/s':>8} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>8}"
          f" {'CPU/req':>8}  (ms)")


def bench(kind: str, args) -> list[str]:
    workdir = Path(tempfile.mkdtemp(prefix=f"hongfan-load-{kind}-"))
    instance = workdir / "instance"
    url, drop = temporary_database(kind, workdir / "instance" / "hongfan.sqlite3", args.pg_url, "hf_load")
    servers: list[Gunicorn] = []
    out: list[str] = []
    try:
        plan = prepare(url, instance)
        targets = workdir / "targets.json"
        targets.write_text(json.dumps(plan))
        out.append(f"{kind}: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs before the runs")
        out.append(f"{kind}: demo city prepared in {plan['prepare_s']:.0f} s ({plan['member_rows']} members, "
                   f"{plan['course_rows']} courses); gunicorn gthread --workers {args.workers} --threads {args.threads};"
                   f" {args.clients} clients, {args.duration} s per run")
        out.append(HEADER)

        # Both servers up, idle in turn: bare and home runs alternate, so a change in the
        # machine's load (it is shared) falls on both; the medians of the rounds are compared.
        bare = Gunicorn("bare:create_app()", LOAD, clean_env(), args.workers, args.threads, workdir / "bare.log")
        servers.append(bare)
        env = clean_env(HONGFAN_DATABASE_URL=url, HONGFAN_INSTANCE_PATH=str(instance),
                        HONGFAN_SECRET_KEY="load-bench-secret")
        app = Gunicorn("learning:create_app()", ROOT, env, args.workers, args.threads, workdir / "app.log")
        servers.append(app)
        references, homes, load_failures = [], [], {}
        cpu = {"bare": CpuSampler(bare.process.pid), "home": CpuSampler(app.process.pid)}
        for round_no in range(1, args.rounds + 1):
            began = time.time()
            rows, _ = locust(bare.url, ["BareUser"], args.clients, args.duration, workdir, f"bare{round_no}", targets)
            references.append(figures(rows["GET / (bare Flask)"]))
            references[-1]["cpu_ms"] = 1000 * cpu["bare"].used_since(began) / max(1, references[-1]["requests"])
            out.append(line(f"GET / (bare Flask) [reference] round {round_no}", references[-1]))
            rows, result = locust(app.url, ["HomePageUser"], args.clients, args.duration, workdir, f"home{round_no}",
                                  targets)
            homes.append(figures(rows["GET / (member home)"]))
            # from the moment every member is logged in: their 16 argon2 logins are not home page work
            opened = (result or {}).get("gate_open", began)
            homes[-1]["cpu_ms"] = 1000 * cpu["home"].used_since(opened) / max(1, homes[-1]["requests"])
            out.append(line(f"GET / (member home)           round {round_no}", homes[-1]))
            load_failures.update(rows.get("_failures", {}))
        for sampler in cpu.values():
            sampler.stop()
        bare.stop()
        reference_rps = median([r["rps"] for r in references])
        home_rps, home_p95 = median([h["rps"] for h in homes]), median([h["p95"] for h in homes])
        ratio = home_rps / reference_rps
        ok = ratio >= 0.25 and home_p95 <= 50 and not any(h["failures"] for h in homes)
        out.append(f"  medians of {args.rounds} rounds: bare {reference_rps:.0f} req/s, home {home_rps:.0f} req/s, "
                   f"home p95 {home_p95:.0f} ms")
        bare_cpu, home_cpu = median([r["cpu_ms"] for r in references]), median([h["cpu_ms"] for h in homes])
        out.append(f"  server CPU per request (medians): bare {bare_cpu:.2f} ms, home {home_cpu:.2f} ms; "
                   f"bare/home = {bare_cpu / home_cpu:.3f} — the throughput ratio a server-bound, otherwise idle "
                   f"machine would show")
        out.append(f"  home / bare throughput = {ratio:.3f} (target ≥ 0.25), home p95 {home_p95:.0f} ms "
                   f"(target ≤ 50 ms) at {args.clients} clients in a closed loop  [{'ok' if ok else 'MISSED'}]")
        rows, _ = locust(app.url, ["PacedHomePageUser"], args.clients, args.duration, workdir, "paced", targets)
        paced = figures(rows["GET / (member home, paced)"])
        out.append(line("GET / (member home, paced)", paced))
        out.append(f"  paced: {args.clients} members each opening the home page every "
                   f"{PACE_S:g} s ({args.clients / PACE_S:.0f} req/s offered): p95 {paced['p95']:.0f} ms")

        rows, _ = locust(app.url, ["MemberUser", "SecretaryUser"], args.clients, args.duration, workdir, "mixed",
                         targets)
        out.append(f"  mixed: {args.clients} users (members 7 : secretaries 1), pauses of 0–0.5 s / 0.5–1.5 s")
        for name, row in sorted(rows.items()):
            if name not in ("Aggregated", "_failures"):
                out.append(line(name, figures(row)))
        out.append(line("all requests", figures(rows["Aggregated"])))
        load_failures.update(rows.get("_failures", {}))

        storm_cpu = CpuSampler(app.process.pid)
        storm_began = time.time()
        rows, storm = locust(app.url, ["LoginStormUser"], args.storm, args.storm_timeout, workdir, "storm", targets,
                              reset=False)
        storm_seconds = storm_cpu.used_since(storm_began)  # before the server stops
        storm_cpu.stop()
        app.stop()
        if storm is None or "served" not in storm:
            out.append(f"  login storm: did not complete within {args.storm_timeout} s  [MISSED]")
        else:
            ok = storm["served"] == args.storm and storm["seconds"] <= 10
            waits = storm["latencies_ms"]
            per_login = storm_seconds / args.storm  # includes the login form's GET
            out.append(f"  login storm: server CPU {1000 * per_login:.0f} ms per login (form + argon2id check); "
                       f"{args.storm} logins need {args.storm * per_login:.1f} CPU-seconds, "
                       f"{args.storm * per_login / (os.cpu_count() or 1):.1f} s on {os.cpu_count()} otherwise idle cores")
            out.append(f"  login storm: {storm['served']}/{args.storm} served ({storm['failed']} failed), "
                       f"first to last {storm['seconds']:.1f} s, answers p50 {percentile(waits, 50):.0f} ms, "
                       f"p95 {percentile(waits, 95):.0f} ms, slowest {max(waits):.0f} ms (target: all within 10 s)"
                       f"  [{'ok' if ok else 'MISSED'}]")
        load_failures.update(rows.get("_failures", {}))
        errors = [entry for entry in app.log.read_text(errors="replace").splitlines()
                  if entry.startswith(("sqlalchemy.exc.", "sqlite3.", "psycopg.")) or "Error:" in entry[:60]]
        if errors:
            out.append(f"  server log: {len(errors)} error lines; first: {errors[0][:200]}")
        for name, problems in load_failures.items():
            out.append(f"  failures of {name}: {'; '.join(problems[:3])}")
        out.append(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs after the runs")
        return out
    finally:
        for server in servers:
            server.stop()
        drop()
        if args.keep:
            print(f"(kept {workdir})")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg-url", default=os.environ.get(
        "HONGFAN_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL database to connect to for CREATE DATABASE (a fresh one is made and dropped)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="gthread threads per worker")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=int, default=20, help="seconds per run (bare, home, paced, mixed)")
    parser.add_argument("--rounds", type=int, default=3, help="bare/home runs, alternating")
    parser.add_argument("--storm", type=int, default=200, help="members logging in at once")
    parser.add_argument("--storm-timeout", type=int, default=120)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (instance, locust CSVs)")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for kind in kinds:
        if kind == "postgres" and not postgres_reachable(args.pg_url):
            print(f"postgres: not reachable at {args.pg_url}; skipped")
            continue
        for text_line in bench(kind, args):
            print(text_line, flush=True)


if __name__ == "__main__":
    main()

"""CPU per member home page, in process (Flask test client): kept (learning/pagecache) and
rendered (the cache off), next to the cheapest logged-in request, GET /api/v1/session (the
session and the member, no page), measured in the same run on the same demo city.

    python bench/bench_home.py                     # builds the demo city in a temporary folder (~20 s)
    python bench/bench_home.py --instance /tmp/demo --requests 2000
    python bench/bench_home.py --profile           # and a pyinstrument profile of the kept page

The figures are process CPU time per request (time.process_time), medians over --requests
requests spread over the members; bench/bench_load.py measures the same pages through gunicorn
under load.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _demo(instance: Path) -> None:
    env = {**os.environ, "HONGFAN_INSTANCE_PATH": str(instance), "HONGFAN_LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-m", "learning", "demo", "--no-serve"], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"hongfan demo failed:\n{done.stdout}{done.stderr}")


def _clients(app, members: int):
    from sqlalchemy import select

    from learning.extensions import db
    from learning.orgs.models import Member

    with app.app_context():
        phones = db.session.scalars(select(Member.phone).where(Member.password_hash.is_not(None))
                                    .order_by(Member.id).limit(members * 3)).all()
    clients = []
    for phone in phones:
        client = app.test_client()
        if client.post("/login", data={"phone": phone, "password": "hongfan"}).status_code == 302:
            clients.append(client)
        if len(clients) == members:
            break
    return clients


def _cpu_ms(clients, path: str, requests: int) -> list[float]:
    for client in clients:  # first visits: pages rendered and kept, connections opened
        client.get(path, headers={"Accept-Encoding": "br"})
    times = []
    for i in range(requests):
        client = clients[i % len(clients)]
        start = time.process_time()
        response = client.get(path, headers={"Accept-Encoding": "br"})
        times.append((time.process_time() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instance", type=Path, help="an instance folder holding the demo city (else one is built)")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--members", type=int, default=16)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as work:
        instance = args.instance or Path(work) / "instance"
        if args.instance is None:
            _demo(instance)
        os.environ["HONGFAN_INSTANCE_PATH"] = str(instance)
        os.environ["HONGFAN_LOG_LEVEL"] = "WARNING"
        from learning import create_app

        base = {"SESSION_COOKIE_SECURE": False, "WTF_CSRF_ENABLED": False}
        kept_app, rendered_app = create_app(base), create_app({**base, "PAGE_CACHE_MB": 0})
        kept, rendered = _clients(kept_app, args.members), _clients(rendered_app, args.members)
        rows = [("GET /api/v1/session (reference)", _cpu_ms(kept, "/api/v1/session", args.requests)),
                ("GET / kept", _cpu_ms(kept, "/", args.requests)),
                ("GET / rendered (cache off)", _cpu_ms(rendered, "/", args.requests // 4))]
        reference = statistics.median(rows[0][1])
        print(f"{len(kept)} members of the demo city; CPU per request, in process")
        print(f"  {'request':34} {'median ms':>10} {'p90 ms':>8} {'× reference':>12}")
        for name, times in rows:
            median = statistics.median(times)
            p90 = sorted(times)[int(len(times) * 0.9)]
            print(f"  {name:34} {median:10.2f} {p90:8.2f} {median / reference:12.1f}")
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
            _cpu_ms(kept, "/", args.requests)
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False))


if __name__ == "__main__":
    main()

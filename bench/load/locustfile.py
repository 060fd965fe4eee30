"""Locust users for the load benchmark (driven by bench/bench_load.py; runnable by hand too).

    HONGFAN_LOAD_TARGETS=targets.json locust -f bench/load/locustfile.py --headless \
        --host http://127.0.0.1:8000 -u 16 -r 16 -t 30s MemberUser SecretaryUser

targets.json (written by bench_load.py from the database under test):
    {"password": "...", "members": ["phone", ...], "secretaries": [["phone", "ORG-CODE"], ...],
     "quiz_paths": ["/courses/<slug>/lessons/<quiz>", ...]}

User classes (pick them on the command line):
- MemberUser     log in, then home page, plan JSON, continue a lesson, study events, a quiz (a cycle)
- SecretaryUser  log in, then the branch dashboard and its .xlsx export (a cycle)
- HomePageUser   members who, once all of them are logged in, only open the home page, with no
                 pause: the closed loop the home-page target is measured with
- PacedHomePageUser  the same members, each opening the home page every 0.5 s
- BareUser       GET / on the bare Flask reference app (bench/load/bare.py), same loop
- LoginStormUser every user fetches the login form, waits until all have it, then all post the
                 form at the same moment; the last one to finish stops the run and writes
                 HONGFAN_LOAD_RESULT (JSON: how many were served, first to last second)
Steps come from bench/load/scenarios.py, shared with the tests.
"""
from __future__ import annotations

import itertools
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event
from locust import FastHttpUser, between, constant, constant_pacing, task

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scenarios import MemberFlow, SecretaryFlow, StepFailed, form_body  # noqa: E402

_TARGETS: dict[str, Any] | None = None
# HONGFAN_LOAD_NO_PAUSE=1: members and secretaries go straight to their next step (the smoke
# test's short runs then reach every step even on a busy machine).
_PAUSES = os.environ.get("HONGFAN_LOAD_NO_PAUSE") != "1"
_next_member = itertools.count()
_next_secretary = itertools.count()


def targets() -> dict[str, Any]:
    global _TARGETS
    if _TARGETS is None:
        path = os.environ.get("HONGFAN_LOAD_TARGETS")
        _TARGETS = json.loads(Path(path).read_text()) if path else {
            "password": "hongfan", "members": ["13800000002"], "secretaries": [["13800000001", "HF-WM-01"]],
            "quiz_paths": []}  # the demo's logins
    return _TARGETS


class LocustHttp:
    """scenarios.Http over locust's FastHttpSession: a wrong status is a failure in locust's stats."""

    def __init__(self, client) -> None:
        self.client = client

    def request(self, method, path, *, name, expect=(200,), data=None, json_body=None, headers=None) -> str:
        headers = dict(headers or {})
        body = None
        if data is not None:
            body = form_body(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        with self.client.request(method, path, name=name, data=body, json=json_body, headers=headers,
                                 allow_redirects=False, catch_response=True) as response:
            if response.status_code not in expect:
                response.failure(f"HTTP {response.status_code}, expected {expect}")
                raise StepFailed(f"{name}: HTTP {response.status_code}")
            return (response.content or b"").decode("utf-8", "replace")


def _get_ok(client, path: str, name: str) -> None:
    """A GET that must answer 200 (a redirect to the login page is a failure, not a fast page)."""
    with client.get(path, name=name, allow_redirects=False, catch_response=True) as response:
        if response.status_code != 200:
            response.failure(f"HTTP {response.status_code}")


def _member_phone() -> str:
    members = targets()["members"]
    return members[next(_next_member) % len(members)]


class MemberUser(FastHttpUser):
    """A member's session: the steps come round in a fixed cycle (home page 3, study events 5,
    continue a lesson 2, plan 1, quiz 1 in every 12), each user starting at a random point."""

    wait_time = between(0.0, 0.5) if _PAUSES else constant(0)
    weight = 7
    CYCLE = ("home", "send_events", "continue_lesson", "send_events", "plan", "home", "send_events", "take_quiz",
             "home", "send_events", "continue_lesson", "send_events")

    def on_start(self) -> None:
        self.flow = MemberFlow(LocustHttp(self.client), _member_phone(), targets()["password"],
                               targets().get("quiz_paths", []), random.Random())
        self.flow.login()
        self.step = random.randrange(len(self.CYCLE))

    @task
    def next_step(self) -> None:
        name = self.CYCLE[self.step % len(self.CYCLE)]
        self.step += 1
        getattr(self.flow, name)()


class SecretaryUser(FastHttpUser):
    """A secretary: the dashboard, its .xlsx export, then the dashboard twice more, round again."""

    wait_time = between(0.5, 1.5) if _PAUSES else constant(0)
    weight = 1
    CYCLE = ("dashboard", "export", "dashboard", "dashboard")

    def on_start(self) -> None:
        secretaries = targets()["secretaries"]
        phone, org = secretaries[next(_next_secretary) % len(secretaries)]
        self.flow = SecretaryFlow(LocustHttp(self.client), phone, targets()["password"], org)
        self.flow.login()
        self.step = 0

    @task
    def next_step(self) -> None:
        name = self.CYCLE[self.step % len(self.CYCLE)]
        self.step += 1
        getattr(self.flow, name)()


class _Gate:
    """Counts users past a point; opens when all the run's users are there."""

    def __init__(self) -> None:
        self.count = 0
        self.open = Event()

    def arrive(self, environment) -> None:
        self.count += 1
        if self.count >= environment.parsed_options.num_users:
            self.open.set()
            result = os.environ.get("HONGFAN_LOAD_RESULT")
            if result:  # the driver counts the server's CPU from here (the logins are over)
                Path(result).write_text(json.dumps({"gate_open": time.time()}))


_home_gate = _Gate()


class HomePageUser(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        self.flow = MemberFlow(LocustHttp(self.client), _member_phone(), targets()["password"], [])
        self.flow.login()
        _home_gate.arrive(self.environment)
        _home_gate.open.wait(timeout=120)

    @task
    def home(self) -> None:
        _get_ok(self.client, "/", "GET / (member home)")


class PacedHomePageUser(FastHttpUser):
    """The same members, each opening the home page every half second: latency below saturation."""

    wait_time = constant_pacing(0.5)
    on_start = HomePageUser.on_start

    @task
    def home(self) -> None:
        _get_ok(self.client, "/", "GET / (member home, paced)")


class BareUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def hello(self) -> None:
        _get_ok(self.client, "/", "GET / (bare Flask)")


_storm_ready = _Gate()
_storm: dict[str, Any] = {"served": 0, "failed": 0, "released": 0.0, "last": 0.0, "latencies_ms": []}


class LoginStormUser(FastHttpUser):
    """The storm's own figures go to HONGFAN_LOAD_RESULT: locust's CSV is written once a second
    and the run ends as soon as the last login is answered, so its last rows may be missing."""

    wait_time = constant(3600)

    def on_start(self) -> None:
        self.http = LocustHttp(self.client)
        self.phone = _member_phone()
        from scenarios import CSRF_FIELD, _find

        self.token = _find(CSRF_FIELD, self.http.request("GET", "/login", name="GET /login (storm)"), "CSRF")
        _storm_ready.arrive(self.environment)
        _storm_ready.open.wait(timeout=300)
        started = time.perf_counter()
        if not _storm["released"]:
            _storm["released"] = started
        try:
            self.http.request("POST", "/login", name="POST /login (storm)", expect=(302,),
                              data={"csrf_token": self.token, "phone": self.phone,
                                    "password": targets()["password"], "remember": "y", "next": ""})
            _storm["served"] += 1
        except StepFailed:
            _storm["failed"] += 1
        _storm["last"] = time.perf_counter()
        _storm["latencies_ms"].append((_storm["last"] - started) * 1000)
        if _storm["served"] + _storm["failed"] >= self.environment.parsed_options.num_users:
            result = os.environ.get("HONGFAN_LOAD_RESULT")
            if result:
                Path(result).write_text(json.dumps({
                    "users": self.environment.parsed_options.num_users, "served": _storm["served"],
                    "failed": _storm["failed"], "seconds": _storm["last"] - _storm["released"],
                    "latencies_ms": sorted(_storm["latencies_ms"])}))
            gevent.spawn_later(0.2, self.environment.runner.quit)

    @task
    def idle(self) -> None:
        pass

"""Every registered route, as real URLs: the security tests walk app.url_map and request each
(rule, method) with ids from the access matrix's seeded world (tests/test_access_matrix.py).

A rule the matrix gives no URL for makes `walk` fail, naming it, so a new route cannot slip past
the header and safe-method checks.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient

from helpers import csrf_from
from test_access_matrix import MATRIX

IGNORED_METHODS = {"HEAD", "OPTIONS"}  # answered by Werkzeug for every rule


@dataclass(frozen=True)
class Call:
    endpoint: str
    method: str
    url: str
    rule: str


def walk(app: Flask, world: dict, methods: set[str] | None = None) -> list[Call]:
    """One call per matrix row (in the matrix's order), after checking that together they
    reach every rule and method of app.url_map."""
    adapter = app.url_map.bind("localhost")
    calls, reached = [], set()
    for endpoint, method, template, _expected in MATRIX:
        url = template.format(**world)
        rule, _args = adapter.match(url.partition("?")[0], method=method, return_rule=True)
        assert rule.endpoint == endpoint, f"{method} {url} reaches {rule.endpoint}, the matrix says {endpoint}"
        reached.add((rule.rule, method))
        if methods is None or method in methods:
            calls.append(Call(endpoint, method, url, rule.rule))
    unreached = sorted(f"{method} {rule.rule}" for rule in app.url_map.iter_rules()
                       for method in rule.methods - IGNORED_METHODS if (rule.rule, method) not in reached)
    assert not unreached, f"routes without a URL in tests/test_access_matrix.py MATRIX: {unreached}"
    return calls


def call(client: FlaskClient, method: str, url: str, **kwargs):
    """A request as a browser would send it: unsafe methods carry the session's CSRF token."""
    if method == "GET":
        return client.get(url, **kwargs)
    token = csrf_from(client.get("/login").get_data(as_text=True))
    if method == "POST":
        return client.post(url, data={"csrf_token": token}, **kwargs)
    return client.open(url, method=method, headers={"X-CSRFToken": token}, **kwargs)

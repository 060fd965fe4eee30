"""The OpenAPI document describes every API route, and a schemathesis run against the app
(in-process WSGI, a bearer token for an ordinary member) finds no 5xx and no response that
breaks the document.

Bounded and repeatable: few examples per operation, derandomized, no deadline (the machine is
shared), so the whole run stays within about a minute."""
from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from helpers import api_token, bearer, finish_lesson
from learning.catalog.models import CourseStatus
from learning.timeutil import utcnow


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.removeprefix("/api/v1"))


def test_every_api_route_is_described(app, client):
    document = client.get("/api/v1/openapi.json").json
    described = {(path, method) for path, ops in document["paths"].items() for method in ops}
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (_openapi_path(rule.rule), method.lower()) not in described:
                missing.append(f"{method} {rule.rule}")
    assert not missing, f"API routes missing from the OpenAPI document: {missing}"
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            assert op.get("operationId") and op.get("summary") and "security" in op, f"{method} {path}"
            assert op["responses"], f"{method} {path}"
    assert set(document["components"]["securitySchemes"]) == {"bearerAuth", "cookieAuth"}


def test_document_is_valid_openapi(app):
    # Loading validates the document against the OpenAPI 3.0 meta-schema.
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    labels = {op.ok().label for op in loaded.get_all_operations()}
    assert "GET /me" in labels and "POST /tokens" in labels


@pytest.fixture
def fuzz_target(app, city, make_course, db):
    """The loaded document and tokens of a member and an administrator, over a catalogue with a
    draft and some progress."""
    course = make_course()
    make_course(title="草稿", status=CourseStatus.DRAFT)
    finish_lesson(city["member"], course.lessons[0], utcnow())
    db.session.commit()
    tokens = {"member": api_token(app.test_client(), "13800000002"),
              "admin": api_token(app.test_client(), "13800000000")}
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app), tokens


def _header_problems(case, response) -> list[str]:
    """What every API answer must carry, whatever the input (learning/security.py)."""
    headers = {name.lower(): values[-1] for name, values in response.headers.items()}
    problems = [f"{name}: {headers.get(name)}" for name, want in (("x-content-type-options", "nosniff"),
                                                                   ("x-frame-options", "SAMEORIGIN"))
                if headers.get(name) != want]
    policy = headers.get("content-security-policy", "")
    if "object-src 'none'" not in policy or "base-uri 'none'" not in policy:
        problems.append(f"CSP: {policy}")
    if case.operation.path != "/openapi.json" and "no-store" not in headers.get("cache-control", ""):
        problems.append(f"Cache-Control: {headers.get('cache-control')}")
    return problems


# Every operation, positive and negative, as an ordinary member; positive as an administrator
# (the organization statistics answer them); and with no credentials (each answer a documented 401).
# schemathesis' pytest integration (from_fixture) reads a private pytest attribute that pytest 9.2
# removed, so each operation is driven through its public Hypothesis strategy instead.
@pytest.mark.parametrize("caller, mode", [("member", GenerationMode.POSITIVE), ("member", GenerationMode.NEGATIVE),
                                          ("admin", GenerationMode.POSITIVE), ("anonymous", GenerationMode.POSITIVE)],
                         ids=lambda v: str(v))
def test_api_conforms_to_its_document(fuzz_target, caller, mode):
    document, tokens = fuzz_target
    auth = bearer(tokens[caller]) if caller in tokens else {}
    failures, calls = [], []
    for result in document.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=10, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            # the in-process WSGI transport does not decode compressed bodies (Flask-Compress)
            response = case.call_and_validate(headers={**auth, "Accept-Encoding": "identity"})
            calls.append(response.status_code)
            assert not (problems := _header_problems(case, response)), problems
            if caller == "anonymous" and case.operation.path not in ("/openapi.json", "/tokens"):
                assert response.status_code in (401, 404, 405), response.status_code

        try:
            check()
        except Exception as failure:  # collect every operation's failures, report them together
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n\n".join(failures)
    assert len(calls) >= 2 * len(list(document.get_all_operations()))
    if caller != "anonymous":
        assert any(200 <= code < 300 for code in calls)

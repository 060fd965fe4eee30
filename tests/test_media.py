"""Lesson media: HTTP Range for seeking and resuming, exact types, nosniff, login required."""
from __future__ import annotations

from pathlib import Path

import pytest

import content
from helpers import AuthActions

LIBRARY = Path(content.__file__).resolve().parent / "library"


@pytest.fixture
def first_aid(runner, city, app):
    assert runner.invoke(args=["content", "import", str(LIBRARY / "first-aid"), "--publish"]).exit_code == 0
    client = app.test_client()
    AuthActions(client).login("13800000002")
    return client, (LIBRARY / "first-aid" / "media" / "cpr-steps.m4a").read_bytes()


def test_range_request_gives_206_with_content_range(first_aid):
    client, data = first_aid
    response = client.get("/courses/first-aid/media/cpr-steps.m4a", headers={"Range": "bytes=100-199"})
    response.close()  # file responses hold the file open until closed
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert response.get_data() == data[100:200]
    assert response.headers["Content-Type"] == "audio/mp4"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers.get("Accept-Ranges") == "bytes"


def test_open_ended_and_suffix_ranges(first_aid):
    client, data = first_aid
    with client.get("/courses/first-aid/media/cpr-steps.m4a", headers={"Range": f"bytes={len(data) - 10}-"}) as tail:
        assert tail.status_code == 206 and tail.get_data() == data[-10:]
    with client.get("/courses/first-aid/media/cpr-steps.m4a", headers={"Range": "bytes=-5"}) as suffix:
        assert suffix.status_code == 206 and suffix.get_data() == data[-5:]


def test_impossible_range_gives_416(first_aid):
    client, data = first_aid
    response = client.get("/courses/first-aid/media/cpr-steps.m4a",
                          headers={"Range": f"bytes={len(data) + 10}-{len(data) + 20}"})
    assert response.status_code == 416
    response.close()


def test_whole_file_and_path_escape(first_aid):
    client, data = first_aid
    with client.get("/courses/first-aid/media/cpr-steps.m4a") as whole:
        assert whole.status_code == 200 and whole.get_data() == data
    assert client.get("/courses/first-aid/media/../course.toml").status_code == 404
    assert client.get("/courses/first-aid/media/%2e%2e/course.toml").status_code == 404


def test_reverse_proxy_serves_the_bytes_via_x_accel_redirect(first_aid, app):
    client, _data = first_aid
    app.config["MEDIA_ACCEL_PREFIX"] = "/_courses"
    response = client.get("/courses/first-aid/media/cpr-steps.m4a")
    assert response.status_code == 200 and response.get_data() == b""
    target = response.headers["X-Accel-Redirect"]
    assert target.startswith("/_courses/first-aid/1.0.0-") and target.endswith("/media/cpr-steps.m4a")
    assert response.headers["Content-Type"] == "audio/mp4"
    assert client.get("/courses/first-aid/media/missing.m4a").status_code == 404

"""The station's scanner (驿站): staff point the phone's camera at the member's QR code and the
code is looked up, as if typed. Chromium's fake camera films a QR code made here with segno."""
from __future__ import annotations

import shutil
import subprocess

import pytest
import segno

from helpers import CHROMIUM, CHROMIUM_ARGS, browser_login
from test_redemption import code_for, grant_points, station  # noqa: F401  (station is a fixture)

STAFF = "13700000001"


def _camera_film(tmp_path, text: str):
    """A few seconds of video showing a QR code of `text`, as Chromium's fake camera wants it."""
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg not installed: cannot make the camera's film")
    image, film = tmp_path / "qr.png", tmp_path / "camera.y4m"
    segno.make(text, micro=False).save(str(image), scale=8, border=4)
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-loop", "1", "-i", str(image),
                    "-vf", "scale=320:320,pad=640:480:160:80:white,format=yuv420p", "-r", "10", "-t", "3",
                    str(film)], check=True)
    return film


def _phone_with_camera(browser, film, *, allowed: bool):
    """A Chromium of its own: the fake camera is chosen when the browser starts."""
    args = [*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={film}"]
    if allowed:
        args.append("--use-fake-ui-for-media-stream")  # the staff member said yes to the camera
    camera = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=args)
    context = camera.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True,
                                 has_touch=True)
    return camera, context.new_page()


def test_scanning_the_members_code_looks_it_up(app, city, station, browser, live_server, tmp_path,  # noqa: F811
                                               screenshot):
    grant_points(city["member"], 100)
    code = code_for(city["member"])
    camera, page = _phone_with_camera(browser, _camera_film(tmp_path, code), allowed=True)
    try:
        browser_login(page, live_server, STAFF)
        page.wait_for_url(f"{live_server}/")
        response = page.goto(f"{live_server}/stations/{station['station'].id}/redeem")
        assert "camera=(self)" in response.headers["permissions-policy"]
        page.get_by_role("button", name="用摄像头扫码").click()
        page.wait_for_url(f"**/redeem?code={code}", timeout=20000)
        screenshot(page, "station-scanned")
        assert page.get_by_text("骑手小王").first.is_visible()  # whose code it is, and their balance
        assert page.locator(".bignum b").inner_text() == "100"
    finally:
        camera.close()


def test_without_the_camera_the_digits_are_typed(app, city, station, browser, live_server, tmp_path):  # noqa: F811
    code = code_for(city["member"])
    camera, page = _phone_with_camera(browser, _camera_film(tmp_path, "https://example.org/not-a-code"),
                                      allowed=False)
    try:
        browser_login(page, live_server, STAFF)
        page.wait_for_url(f"{live_server}/")
        page.goto(f"{live_server}/stations/{station['station'].id}/redeem")
        page.get_by_role("button", name="用摄像头扫码").click()
        page.get_by_text("无法使用摄像头").wait_for()
        page.fill("input[name=code]", code)
        page.get_by_role("button", name="查询").click()
        page.wait_for_url(f"**/redeem?code={code}")
        assert page.get_by_text("骑手小王").first.is_visible()
    finally:
        camera.close()

"""Helpers shared by test modules (importable as `helpers`: pytest puts tests/ on sys.path)."""
from __future__ import annotations

import re

from flask.testing import FlaskClient

PASSWORD = "correct horse battery"


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, phone: str, password: str = PASSWORD, remember: bool = True, next: str = ""):
        page = self.client.get("/login")
        data = {"csrf_token": csrf_from(page.get_data(as_text=True)), "phone": phone,
                "password": password, "next": next}
        if remember:
            data["remember"] = "y"
        return self.client.post("/login", data=data)

    def logout(self):
        page = self.client.get("/")
        return self.client.post("/logout", data={"csrf_token": csrf_from(page.get_data(as_text=True))})


def browser_login(page, base: str, phone: str, password: str = PASSWORD) -> None:
    """Log in through the login page of a Playwright page."""
    page.goto(f"{base}/login")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()

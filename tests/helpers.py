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


def api_token(client: FlaskClient, phone: str, password: str = PASSWORD, name: str | None = None) -> str:
    """A bearer token from POST /api/v1/tokens."""
    body = {"phone": phone, "password": password, **({"name": name} if name else {})}
    response = client.post("/api/v1/tokens", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json["token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}

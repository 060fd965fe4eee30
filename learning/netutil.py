"""The client's address, honouring only as many proxy hops as configured."""
from __future__ import annotations

from flask import request


def client_address() -> str:
    # With HONGFAN_TRUSTED_PROXIES > 0, werkzeug's ProxyFix (learning/ops) has already taken the
    # address that many hops back in X-Forwarded-For; without it the header is ignored.
    return request.remote_addr or "unknown"

"""The client's address, honouring only as many proxy hops as configured."""
from __future__ import annotations

from flask import current_app, request


def client_address() -> str:
    hops = int(current_app.config.get("TRUSTED_PROXIES", 0))
    if hops:
        forwarded = [p.strip() for p in request.headers.get("X-Forwarded-For", "").split(",") if p.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.remote_addr or "unknown"

"""API routes that belong to no single feature: the OpenAPI document."""
from __future__ import annotations

from flask import jsonify

from learning.api import bp, spec


@bp.get("/openapi.json")
def openapi():
    return jsonify({
        "openapi": "3.0.3",
        "info": {"title": "红帆学院 Hongfan Academy API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "paths": spec.PATHS,
        "components": {"schemas": spec.SCHEMAS},
    })

"""``GET /api/docs``: Swagger UI, with a Content-Security-Policy relaxed for this page only.

FastAPI's page loads Swagger UI from a CDN and starts it with an inline script. Rather than
allowing inline scripts, the policy names that one script by its SHA-256 hash (computed from
the page as rendered, so it follows FastAPI's template) and the pinned CDN path; styles may be
inline because Swagger UI sets them on its elements. Every other response keeps the strict
policy of ``lib/http/middleware.py``. Self-hosting Swagger UI would add ~1.5 MB of vendored
assets to ``public/`` for a page only developers open.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

SWAGGER_UI = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.35.0"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def docs_policy(html: str) -> str:
    """The CSP admitting exactly the inline scripts of ``html`` and the pinned CDN assets."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"
        for body in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {SWAGGER_UI}/ {hashes}; "
        f"style-src 'self' 'unsafe-inline' {SWAGGER_UI}/; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
        "form-action 'self'"
    )


@cache
def _page(openapi_url: str, title: str) -> tuple[bytes, str]:
    html = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=f"{title} - API docs",
        swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
        swagger_favicon_url="data:,",
        swagger_ui_parameters={"validatorUrl": None},
    ).body
    assert isinstance(html, bytes)
    return html, docs_policy(html.decode())


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    html, policy = _page(request.app.openapi_url, request.app.title)
    return HTMLResponse(html, headers={"Content-Security-Policy": policy})

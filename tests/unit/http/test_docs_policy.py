"""The docs page's policy names its inline scripts by hash."""

from __future__ import annotations

import base64
import hashlib

from lib.http.routes.docs import SWAGGER_UI, docs_policy


def test_each_inline_script_is_named_by_its_hash() -> None:
    html = '<script src="x.js"></script><script>a()</script><script>\nb()\n</script>'
    policy = docs_policy(html)
    for body in ("a()", "\nb()\n"):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert policy.count("'sha256-") == 2
    assert f"script-src 'self' {SWAGGER_UI}/ " in policy
    assert "'unsafe-inline'" not in policy.split("style-src")[0]

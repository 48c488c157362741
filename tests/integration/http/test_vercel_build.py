"""``scripts/vercel_build.py``: the real Vercel CLI builds the deployment offline, and it holds.

Runs in ``make test``: skipped only where ``npx`` is absent. Needs the npm registry and PyPI.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "vercel_build.py"


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.skipif(shutil.which("npx") is None, reason="npx (Node.js) is not installed")
def test_vercel_build_produces_one_small_python_function() -> None:
    built = subprocess.run(
        [sys.executable, str(SCRIPT)], cwd=ROOT, capture_output=True, text=True, timeout=880
    )
    print(built.stdout, built.stderr, sep="\n")
    assert built.returncode == 0, built.stderr[-4000:]
    assert "api/index.func:" in built.stdout
    assert "Build Completed" in built.stdout


def test_vercel_json_sends_the_apps_security_headers() -> None:
    from lib.http.middleware import HSTS, SECURITY_HEADERS

    config = json.loads((ROOT / "vercel.json").read_text())
    (every_path,) = [h for h in config["headers"] if h["source"] == "/(.*)"]
    sent = {h["key"]: h["value"] for h in every_path["headers"]}
    assert sent == {**SECURITY_HEADERS, "Strict-Transport-Security": HSTS}


def test_vercel_json_routes_the_api_to_one_function() -> None:
    config = json.loads((ROOT / "vercel.json").read_text())
    assert config["rewrites"] == [{"source": "/api/(.*)", "destination": "/api/index"}]
    assert list(config["functions"]) == ["api/index.py"]
    function = config["functions"]["api/index.py"]
    assert function["maxDuration"] == 60
    for excluded in ("tests/**", ".venv/**", "public/**", "scripts/**", ".data/**"):
        assert excluded in function["excludeFiles"]
    # Hobby plans run crons at most once a day.
    (cron,) = config["crons"]
    minute, hour, *rest = cron["schedule"].split()
    assert cron["path"] == "/api/tick"
    assert minute.isdigit()
    assert hour.isdigit()
    assert rest == ["*", "*", "*"]

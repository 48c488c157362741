"""The checks of ``scripts/vercel_build.py`` on hand-made build outputs: they catch what they
claim to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.vercel_build import _distribution, inspect_output

VC_CONFIG = {"runtime": "python3.12", "maxDuration": 60, "filePathMap": {}}
CONFIG = {
    "version": 3,
    "routes": [
        {"src": "^(?:/(.*))$", "headers": {"Content-Security-Policy": "x"}, "continue": True},
        {"handle": "filesystem"},
        {"src": "^/api(?:/(.*))$", "dest": "/api/index", "check": True},
    ],
    "crons": [{"path": "/api/tick", "schedule": "0 5 * * *"}],
}


def _project(tmp_path: Path, file_map: dict[str, str], config: dict[str, object]) -> Path:
    (tmp_path / "vercel.json").write_text(
        json.dumps({"functions": {"api/index.py": {"maxDuration": 60}}})
    )
    (tmp_path / "requirements.txt").write_text("fastapi==1.0  # web\n-r other.txt\n")
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "index.html").write_text("<!doctype html>")
    output = tmp_path / ".vercel" / "output"
    func = output / "functions" / "api" / "index.func"
    func.mkdir(parents=True)
    for source in file_map.values():
        (tmp_path / source).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / source).write_text("import a_module_not_bundled\n")
    (func / ".vc-config.json").write_text(json.dumps({**VC_CONFIG, "filePathMap": file_map}))
    (output / "config.json").write_text(json.dumps(config))
    (output / "static").mkdir()
    return tmp_path


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("fastapi==0.1", "fastapi"),
        ("pydantic-settings>=2", "pydantic_settings"),
        ("uvicorn[standard]==1", "uvicorn"),
        ("PyOTP", "pyotp"),
        ("-r x.txt", None),
        ("# c", None),
    ],
)
def test_distribution_names(line: str, name: str | None) -> None:
    assert _distribution(line) == name


def test_a_broken_output_is_reported(tmp_path: Path) -> None:
    file_map = {"api/index.py": "api/index.py", "tests/test_x.py": "tests/test_x.py"}
    config = {"version": 3, "routes": [], "crons": []}
    problems = inspect_output(_project(tmp_path, file_map, config)).problems
    assert any("lib/http/app.py is not in the function" in p for p in problems)
    assert any("tests/test_x.py" in p for p in problems)
    assert any("missing from the function: ['fastapi']" in p for p in problems)
    assert any("does not import" in p for p in problems)
    assert any("rewrites /api/health" in p for p in problems)
    assert any("security headers" in p for p in problems)
    assert any("/api/tick" in p for p in problems)
    assert any("public/index.html" in p for p in problems)


def test_two_functions_are_one_too_many(tmp_path: Path) -> None:
    project = _project(tmp_path, {}, CONFIG)
    (project / ".vercel" / "output" / "functions" / "api" / "other.func").mkdir()
    problems = inspect_output(project).problems
    assert any("exactly one function" in p for p in problems)

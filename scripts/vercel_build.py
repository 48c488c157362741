"""Build the Vercel deployment offline with the real Vercel CLI, then check what it produced.

    .venv/bin/python scripts/vercel_build.py [--keep DIR]

1. Copy the project as a fresh checkout has it (no venv, caches, .data or build output) into
   a temporary directory: the build writes there (``uv.lock``, ``.vercel/``), never here.
2. Write ``.vercel/project.json`` by hand: placeholder ids and the settings of a project with
   no framework. With settings present ``vercel build`` neither prompts nor pulls, so no
   login, token or Vercel API is needed.
3. Run ``npx --yes vercel@VERCEL_CLI build``. It needs the npm registry (the CLI) and PyPI
   (@vercel/python installs the dependencies with ``uv``, which must be on PATH; the
   directory of this interpreter is put first, so ``uv`` from the venv is found, as is this
   Python 3.12 for the function).
4. Check ``.vercel/output``: exactly one function, ``api/index.func``, on Python 3.12 with the
   ``maxDuration`` of vercel.json; every runtime requirement bundled and no tests or static
   files; the bundle alone (no site-packages) imports ``api/index.py``; its uncompressed
   size under Vercel's 500 MB limit for Python (printed); the ``/api/*`` rewrite in
   ``config.json``; every file of ``public/`` in the static output, ``public/vendor/`` (which
   the build's ``npm run build`` copies from npm) included.

Exit status: 0 when every check passes, 1 when one fails, 2 when a tool is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERCEL_CLI = "60.1.3"
FUNCTION = "api/index.func"
MAX_BUNDLE_BYTES = 500 * 10**6
# What a fresh checkout lacks: local environments, caches, data and earlier build output.
LOCAL_ONLY = frozenset(
    {
        ".git",
        ".venv",
        "node_modules",
        ".vercel",
        ".data",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        "__pycache__",
        ".env",
        "vendor",  # public/vendor/: copied from npm by the build (scripts/vendor.mjs)
    }
)
NOT_IN_FUNCTION = ("tests/", "public/", "scripts/", "docs/", "supabase/", ".venv/", ".data/")
PROJECT_JSON = {
    "projectId": "prj_openmanager_offline_build",
    "orgId": "team_openmanager_offline_build",
    "settings": {
        "framework": None,
        "devCommand": None,
        "installCommand": None,
        "buildCommand": None,
        "outputDirectory": None,
        "rootDirectory": None,
        "nodeVersion": "24.x",
    },
}


@dataclass
class Report:
    """What the build produced, and what is wrong with it."""

    bundle_files: int = 0
    bundle_bytes: int = 0
    problems: list[str] = field(default_factory=list)

    def check(self, ok: bool, problem: str) -> None:
        if not ok:
            self.problems.append(problem)


def copy_project(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=lambda _d, names: [n for n in names if n in LOCAL_ONLY])


def run_vercel_build(project: Path) -> subprocess.CompletedProcess[str]:
    (project / ".vercel").mkdir(exist_ok=True)
    (project / ".vercel" / "project.json").write_text(json.dumps(PROJECT_JSON, indent=2))
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "VERCEL_TELEMETRY_DISABLED": "1",
        "UV_PYTHON_DOWNLOADS": "never",  # use this machine's Python 3.12, fetch nothing
        "CI": "1",
    }
    command = ["npx", "--yes", f"vercel@{VERCEL_CLI}", "build"]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)


def _distribution(requirement: str) -> str | None:
    """The normalised distribution name of a requirements line, or None for other lines."""
    line = requirement.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return None
    name = re.split(r"[\s\[<>=!~;@]", line, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "_", name).lower()


def inspect_output(project: Path) -> Report:
    """Check ``project/.vercel/output`` as described in the module docstring."""
    report = Report()
    output = project / ".vercel" / "output"
    functions = output / "functions"
    found = sorted(str(p.relative_to(functions)) for p in functions.rglob("*.func"))
    report.check(found == [FUNCTION], f"expected exactly one function {FUNCTION}, got {found}")
    if FUNCTION in found:
        _inspect_function(project, functions / FUNCTION, report)
    _inspect_routes(output / "config.json", report)
    public = project / "public"
    for path in sorted(p for p in public.rglob("*") if p.is_file()):
        served = output / "static" / path.relative_to(public)
        same = served.is_file() and served.read_bytes() == path.read_bytes()
        report.check(same, f"public/{path.relative_to(public)} is not in the static output")
    vendored = output / "static" / "vendor" / "uPlot.esm.js"
    report.check(vendored.is_file(), "the build did not copy uPlot into public/vendor/")
    test_only = output / "static" / "vendor" / "axe.min.js"
    report.check(not test_only.exists(), "axe-core (the tests' alone) is in the deployment")
    return report


def _inspect_function(project: Path, func: Path, report: Report) -> None:
    config = json.loads((func / ".vc-config.json").read_text())
    report.check(config.get("runtime") == "python3.12", f"runtime is {config.get('runtime')}")
    max_duration = json.loads((project / "vercel.json").read_text())["functions"]["api/index.py"]
    report.check(
        config.get("maxDuration") == max_duration["maxDuration"],
        f"maxDuration is {config.get('maxDuration')}",
    )
    # @vercel/python lists the bundle in filePathMap (bundle path → source path) rather than
    # copying it; the function's size is those files plus the ones in the .func directory.
    file_map: dict[str, str] = config.get("filePathMap", {})
    local = [p for p in func.rglob("*") if p.is_file()]
    sizes = [(project / source).stat().st_size for source in file_map.values()]
    report.bundle_files = len(file_map) + len(local)
    report.bundle_bytes = sum(sizes) + sum(p.stat().st_size for p in local)
    report.check(
        report.bundle_bytes < MAX_BUNDLE_BYTES,
        f"bundle is {report.bundle_bytes / 1e6:.1f} MB, over Vercel's 500 MB",
    )
    for path in ("api/index.py", "lib/http/app.py"):
        report.check(path in file_map, f"{path} is not in the function")
    strays = sorted(p for p in file_map if p.startswith(NOT_IN_FUNCTION))
    report.check(not strays, f"files that belong elsewhere are in the function: {strays[:5]}")
    bundled = {
        re.sub(r"-[^-]+\.dist-info$", "", part).lower()
        for path in file_map
        for part in path.split("/")[1:2]
        if path.startswith("_vendor/") and part.endswith(".dist-info")
    }
    requirements = (project / "requirements.txt").read_text().splitlines()
    missing = sorted({d for line in requirements if (d := _distribution(line))} - bundled)
    report.check(not missing, f"runtime requirements missing from the function: {missing}")
    _check_import(project, file_map, report)


def _check_import(project: Path, file_map: dict[str, str], report: Report) -> None:
    """Lay the bundle out as the function sees it and import the entrypoint from it alone."""
    with tempfile.TemporaryDirectory(prefix="openmanager-function-") as root:
        for bundled, source in file_map.items():
            target = Path(root) / bundled
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to((project / source).resolve())
        # -I -S: no environment, no site-packages; only the standard library and the bundle.
        code = "import sys; sys.path[:0] = ['_vendor', '.']; import api.index"
        imported = subprocess.run(
            [sys.executable, "-I", "-S", "-c", code], cwd=root, capture_output=True, text=True
        )
    last_line = (imported.stderr.strip().splitlines() or [""])[-1]
    report.check(imported.returncode == 0, f"api/index.py does not import: {last_line}")


def _inspect_routes(config_path: Path, report: Report) -> None:
    config = json.loads(config_path.read_text())
    routes = config.get("routes", [])
    rewrites = [r for r in routes if r.get("dest") == "/api/index"]
    for path in ("/api/health", "/api/auth/login", "/api/tokens/abc"):
        report.check(
            any(re.fullmatch(r["src"], path) for r in rewrites),
            f"no route rewrites {path} to /api/index",
        )
    report.check(
        any("Content-Security-Policy" in r.get("headers", {}) for r in routes),
        "no route sets the security headers",
    )
    crons = [c.get("path") for c in config.get("crons", [])]
    report.check("/api/tick" in crons, f"no cron calls /api/tick: {crons}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="build in DIR and keep it (default: a temp dir)")
    args = parser.parse_args(argv)
    if shutil.which("npx") is None:
        print("npx not found: install Node.js (with npm) to build for Vercel", file=sys.stderr)
        return 2
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    if shutil.which("uv", path=path) is None:
        print("uv not found: `pip install uv` (requirements-dev.txt)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="openmanager-vercel-") as scratch:
        project = args.keep or Path(scratch) / "project"
        if project.exists():
            shutil.rmtree(project)
        copy_project(ROOT, project)
        print(f"$ npx --yes vercel@{VERCEL_CLI} build  (in {project})", flush=True)
        built = run_vercel_build(project)
        print(built.stdout + built.stderr)
        if built.returncode != 0:
            print(f"vercel build failed with exit status {built.returncode}", file=sys.stderr)
            return 1
        report = inspect_output(project)
    print(
        f"{FUNCTION}: {report.bundle_files} files, {report.bundle_bytes / 1e6:.1f} MB "
        f"uncompressed (Vercel's limit for Python: 500 MB)"
    )
    for problem in report.problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())

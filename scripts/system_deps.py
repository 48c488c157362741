"""Install the Debian packages the tests start for real, only those whose binaries are missing.

    python3 scripts/system_deps.py [--dry-run]

Each package is checked by what the tests use from it (binary → package), so a machine whose
Node.js comes from NodeSource (``npx`` bundled, no Debian ``npm``) is not asked to install
``npm`` (which conflicts with NodeSource's ``nodejs``). As root the missing ones are installed
one at a time; on the first failure it stops with one line naming the package, apt's reason and
what to do. Not root: it names the missing packages and the command, and stops.

Exit status: 0 when everything is present (or was installed), 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Requirement:
    """One Debian package, present when all of its ``binaries`` (or one of its ``files``) are."""

    package: str
    binaries: tuple[str, ...] = ()
    dirs: tuple[str, ...] = ()
    """Glob patterns of directories searched beside PATH (PostgreSQL keeps pg_ctl off PATH)."""
    files: tuple[str, ...] = ()
    """Glob patterns any one of which, when found, means present (fonts have no binary)."""
    font_family: str = ""
    """A family name in ``fc-list`` output that also means present."""


REQUIREMENTS = (
    Requirement("redis-server", binaries=("redis-server",)),
    Requirement("postgresql", binaries=("pg_ctl",), dirs=("usr/lib/postgresql/*/bin",)),
    Requirement("nodejs", binaries=("node",)),
    Requirement("npm", binaries=("npx",)),
    Requirement("prometheus", binaries=("prometheus", "promtool")),
    Requirement("chromium", binaries=("chromium",)),
    # The browser push tests hand Chromium's notifications to a private session bus.
    Requirement("dbus-daemon", binaries=("dbus-daemon",)),
    Requirement(
        "fonts-noto-cjk",
        files=("usr/share/fonts/**/NotoSansCJK*", "usr/share/fonts/**/NotoSerifCJK*"),
        font_family="Noto Sans CJK",
    ),
)


@dataclass(frozen=True)
class Host:
    """What the decision looks at: a PATH, a filesystem root and ``fc-list``'s output."""

    path: str
    root: Path = Path("/")
    fonts: str = ""

    def has_binary(self, name: str, dirs: Sequence[str]) -> bool:
        if shutil.which(name, path=self.path):
            return True
        return any(
            os.access(d / name, os.X_OK) for pattern in dirs for d in self.root.glob(pattern)
        )

    def has_file(self, patterns: Sequence[str]) -> bool:
        return any(next(self.root.glob(p), None) is not None for p in patterns)


def present(req: Requirement, host: Host) -> bool:
    if req.binaries:
        return all(host.has_binary(b, req.dirs) for b in req.binaries)
    return host.has_file(req.files) or bool(req.font_family and req.font_family in host.fonts)


def missing_packages(host: Host, requirements: Sequence[Requirement] = REQUIREMENTS) -> list[str]:
    """The packages to install on ``host``, in ``requirements`` order."""
    return [r.package for r in requirements if not present(r, host)]


def apt_reason(output: str) -> str:
    """apt's own words for a failure: its dependency-problem lines, then its last error."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    problems = [ln for ln in lines if " : " in ln and ("Depends:" in ln or "Conflicts:" in ln)]
    errors = [ln.removeprefix("E: ") for ln in lines if ln.startswith("E: ")]
    parts = problems[:2] + errors[-1:]
    return "; ".join(parts) or (lines[-1] if lines else "no output")


def failure_line(req: Requirement, output: str) -> str:
    """The one line printed when apt cannot install ``req``."""
    what = (
        f"put {' and '.join(req.binaries)} on PATH"
        if req.binaries
        else f"install the {req.font_family} fonts"
    )
    return (
        f"system-deps: apt-get could not install {req.package} ({apt_reason(output)}); "
        f"{what} another way, or fix apt, then rerun make"
    )


def _fonts() -> str:
    fc = shutil.which("fc-list")
    if fc is None:
        return ""
    return subprocess.run([fc, ":", "family"], capture_output=True, text=True).stdout


def _apt(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "-y", "-q", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


def install(missing: list[str], run: Callable[..., subprocess.CompletedProcess[str]]) -> int:
    """Install ``missing`` one at a time; stop at the first failure with its one line."""
    by_name = {r.package: r for r in REQUIREMENTS}
    update = run("update")
    if update.returncode != 0:
        print(f"system-deps: apt-get update failed ({apt_reason(update.stderr)})", file=sys.stderr)
        return 1
    for package in missing:
        print(f"system-deps: installing {package}")
        done = run("install", package)
        if done.returncode != 0:
            print(failure_line(by_name[package], done.stdout + done.stderr), file=sys.stderr)
            return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dry-run", action="store_true", help="name what is missing, install nothing"
    )
    args = parser.parse_args(argv)
    missing = missing_packages(Host(os.environ.get("PATH", ""), fonts=_fonts()))
    if not missing:
        return 0
    if args.dry_run:
        print(" ".join(missing))
        return 0
    if os.geteuid() != 0:
        print(
            f"system-deps: the tests need {' '.join(missing)}; "
            f"install with: sudo apt-get install -y {' '.join(missing)}",
            file=sys.stderr,
        )
        return 1
    return install(missing, _apt)


if __name__ == "__main__":
    sys.exit(main())

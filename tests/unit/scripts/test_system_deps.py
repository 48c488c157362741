"""The dependency step's decisions against a fake PATH and filesystem: it installs only what
is missing, maps binaries to packages, and names apt's reason when an install fails."""

from __future__ import annotations

import subprocess
from pathlib import Path

from scripts.system_deps import REQUIREMENTS, Host, failure_line, install, missing_packages

ALL = [
    "redis-server",
    "postgresql",
    "nodejs",
    "npm",
    "prometheus",
    "chromium",
    "dbus-daemon",
    "fonts-noto-cjk",
]
CONFLICT = """Reading package lists...
Some packages could not be installed. This may mean that you have
The following packages have unmet dependencies:
 nodejs : Conflicts: npm
E: Unable to correct problems, you have held broken packages.
"""


def _bin(directory: Path, *names: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        exe = directory / name
        exe.write_text("#!/bin/sh\n")
        exe.chmod(0o755)


def _machine(tmp_path: Path, *, without: tuple[str, ...] = ()) -> Host:
    """A Debian-like root: pg_ctl off PATH, the CJK font as a file, everything else on PATH."""
    bins = ["redis-server", "node", "npx", "prometheus", "promtool", "chromium", "dbus-daemon"]
    _bin(tmp_path / "usr/bin", *(b for b in bins if b not in without))
    if "pg_ctl" not in without:
        _bin(tmp_path / "usr/lib/postgresql/15/bin", "pg_ctl")
    if "font" not in without:
        font = tmp_path / "usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
        font.parent.mkdir(parents=True)
        font.write_bytes(b"")
    return Host(path=str(tmp_path / "usr/bin"), root=tmp_path)


def test_all_present_installs_nothing(tmp_path: Path) -> None:
    assert missing_packages(_machine(tmp_path)) == []


def test_one_missing_installs_only_its_package(tmp_path: Path) -> None:
    assert missing_packages(_machine(tmp_path, without=("promtool",))) == ["prometheus"]
    assert missing_packages(_machine(tmp_path / "b", without=("pg_ctl",))) == ["postgresql"]


def test_pg_ctl_on_path_counts(tmp_path: Path) -> None:
    host = _machine(tmp_path, without=("pg_ctl",))
    _bin(tmp_path / "usr/bin", "pg_ctl")
    assert missing_packages(host) == []


def test_nodesource_node_with_npx_needs_no_npm(tmp_path: Path) -> None:
    """NodeSource's nodejs bundles npx and conflicts with Debian's npm: npm is never asked for."""
    host = _machine(tmp_path, without=("prometheus", "promtool"))
    assert missing_packages(host) == ["prometheus"]
    assert "npm" not in missing_packages(host)


def test_node_without_npx_asks_for_npm(tmp_path: Path) -> None:
    assert missing_packages(_machine(tmp_path, without=("npx",))) == ["npm"]


def test_nothing_present_asks_for_everything(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    assert missing_packages(Host(path=str(empty), root=tmp_path)) == ALL
    assert [r.package for r in REQUIREMENTS] == ALL


def test_font_found_through_fc_list(tmp_path: Path) -> None:
    host = _machine(tmp_path, without=("font",))
    assert missing_packages(host) == ["fonts-noto-cjk"]
    listed = Host(host.path, host.root, fonts="Noto Sans CJK KR,Noto Sans CJK KR Regular\n")
    assert missing_packages(listed) == []


def test_non_executable_file_is_not_a_binary(tmp_path: Path) -> None:
    host = _machine(tmp_path)
    (tmp_path / "usr/bin/chromium").chmod(0o644)
    assert missing_packages(host) == ["chromium"]


def test_failure_line_names_package_reason_and_remedy() -> None:
    npm = next(r for r in REQUIREMENTS if r.package == "npm")
    line = failure_line(npm, CONFLICT)
    assert "\n" not in line
    assert "could not install npm" in line
    assert "nodejs : Conflicts: npm" in line
    assert "held broken packages" in line
    assert "put npx on PATH" in line


def test_install_stops_at_first_failure(capsys) -> None:
    calls: list[tuple[str, ...]] = []

    def apt(*args: str) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        failed = args[-1] == "npm"
        return subprocess.CompletedProcess(
            args, 100 if failed else 0, "", CONFLICT if failed else ""
        )

    assert install(["prometheus", "npm", "chromium"], apt) == 1
    assert calls == [("update",), ("install", "prometheus"), ("install", "npm")]
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "could not install npm" in err[0]

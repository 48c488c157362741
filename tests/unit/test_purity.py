"""The functional core is pure, and each pure package's public face is honest.

``lib.sim``, ``lib.detect``, ``lib.alerts``, ``lib.analysis``, ``lib.diagnose`` and the answer
logic of ``lib.ai`` take numbers and return numbers: they import nothing from the shell, read
no clock, no environment and no global random generator. Their ``__all__`` lists exactly the public
names they export.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

import pytest

import lib.ai
import lib.alerts
import lib.analysis
import lib.detect
import lib.diagnose
import lib.sim

FORBIDDEN = (
    "lib.store",
    "lib.http",
    "lib.engine",
    "lib.push",
    "lib.clock",
    "lib.config",
    "time",
    "os",
    "random",
    "numpy.random",
    "socket",
    "httpx",
)
# What each package may not reach beyond FORBIDDEN, and its modules that are a small shell of
# their own (the detector's CLI reads files and parses dates: parsing, not reading the clock).
PACKAGES: dict[ModuleType, tuple[tuple[str, ...], dict[str, set[str]]]] = {
    lib.sim: (("sys", "datetime"), {"logs.py": {"datetime"}}),
    lib.detect: (("lib.sim", "sys", "argparse", "datetime"), {
        "__main__.py": {"sys", "argparse"}, "csvio.py": {"datetime"},
    }),
    lib.alerts: (("lib.sim", "sys", "datetime"), {}),
    lib.analysis: (("lib.sim", "sys", "datetime"), {}),
    lib.diagnose: (("sys", "datetime", "lib.alerts", "lib.detect"), {}),
    lib.ai: (("sys", "datetime", "asyncio", "starlette", "fastapi"), {
        "llm.py": {"time", "httpx", "asyncio"},
        "conversations.py": {"lib.store.kv"},
        "service.py": {"time", "datetime", "starlette.concurrency", "lib.engine", "lib.engine.view",
                       "lib.engine.detection",
                       "lib.http.schemas.incidents", "lib.http.state", "lib.store.db"},
    }),
}  # fmt: skip
NAMES = {p.__name__: p for p in PACKAGES}


def imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(NAMES))
def test_pure_packages_import_nothing_impure(package: str) -> None:
    module = NAMES[package]
    extra, shell = PACKAGES[module]
    for path in Path(module.__file__ or "").parent.glob("*.py"):
        allowed = shell.get(path.name, set())
        for name in imported_names(path) - allowed:
            for bad in (*FORBIDDEN, *extra):
                assert name != bad, path.name
                assert not name.startswith(f"{bad}."), (path.name, name)
        text = path.read_text()
        for word in ("np.random", "datetime.now", "time.time", "default_rng", "os.environ"):
            assert word not in text, (path.name, word)


@pytest.mark.parametrize("package", sorted(NAMES))
def test_all_lists_exactly_the_public_names(package: str) -> None:
    module = NAMES[package]
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert set(module.__all__) == public
    for name in (m.name for m in pkgutil.iter_modules(module.__path__)):
        importlib.import_module(f"{package}.{name}")


def test_the_simulator_shows_the_face_the_engine_uses() -> None:
    required = {
        "Fleet", "build_fleet", "Snapshot", "snapshot", "window", "window_truth", "Overrides",
        "Incident", "Impact", "incidents_between", "impacts_between", "METRICS", "METRIC_INDEX",
        "ROLES", "REGIONS", "FAILURE_TYPES", "FailureType", "RecoveryStrategy", "logs",
        "processes", "LogLine", "Process", "SERVER_STATUSES",
    }  # fmt: skip
    assert set(lib.sim.__all__) >= required


# The catalogue is the runbook diagnosis may read; everything else in the simulator is the
# answer key (schedule, impacts, truth arrays, labelled logs) or the world itself.
CATALOGUE = {"FAILURE_TYPES", "METRICS", "Reach"}


def test_diagnosis_reads_the_catalogue_and_nothing_else_of_the_simulator() -> None:
    for path in Path(lib.diagnose.__file__ or "").parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lib.sim"):
                assert node.module == "lib.sim", (path.name, node.module)
                assert {a.name for a in node.names} <= CATALOGUE, path.name

"""lib.sim is pure and its public face is honest."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

import lib.sim

# Modules a pure package must not reach: the shell, clocks, the environment, randomness.
FORBIDDEN = ("lib.store", "lib.http", "lib.engine", "lib.push", "lib.config", "time", "os",
             "random", "numpy.random", "sys", "socket", "httpx")  # fmt: skip
REQUIRED = {
    "Fleet", "build_fleet", "Snapshot", "snapshot", "window", "window_truth", "Overrides",
    "Incident", "Impact", "incidents_between", "impacts_between", "METRICS", "METRIC_INDEX",
    "ROLES", "REGIONS", "FAILURE_TYPES", "FailureType", "RecoveryStrategy", "logs",
    "processes", "LogLine", "Process", "SERVER_STATUSES",
}  # fmt: skip


def imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_sim_modules_import_nothing_impure() -> None:
    for path in Path(lib.sim.__file__).parent.glob("*.py"):
        for name in imported_names(path):
            assert not any(name == f or name.startswith(f"{f}.") for f in FORBIDDEN), (path, name)


def test_sim_modules_use_no_global_random_state_or_clock() -> None:
    for path in Path(lib.sim.__file__).parent.glob("*.py"):
        text = path.read_text()
        for word in ("np.random", "datetime.now", "time.time", "default_rng", "os.environ"):
            assert word not in text, (path, word)


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name, value in vars(lib.sim).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert set(lib.sim.__all__) == public
    assert public >= REQUIRED
    for module in pkgutil.iter_modules(lib.sim.__path__):
        importlib.import_module(f"lib.sim.{module.name}")

"""lib.alerts is pure and its public face is honest."""

import ast
import importlib
import pkgutil
from pathlib import Path

import lib.alerts

# Pure modules may use numpy, the standard library's pure parts, lib.errors and other pure
# packages; never the shell, the simulator, a clock or the environment.
FORBIDDEN = (
    "lib.sim",
    "lib.store",
    "lib.http",
    "lib.engine",
    "lib.push",
    "lib.clock",
    "lib.config",
    "time",
    "os",
    "datetime",
    "random",
    "socket",
    "httpx",
)


def imported_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Attribute) and node.attr == "random":
            names.add("numpy.random")
    return names


def test_alerts_modules_import_nothing_impure():
    root = Path(lib.alerts.__file__).parent
    for path in root.glob("*.py"):
        for name in imported_names(path):
            assert not any(name == f or name.startswith(f"{f}.") for f in FORBIDDEN), (path, name)
            assert name != "numpy.random", path


def test_all_lists_exactly_the_public_names():
    exported = set(lib.alerts.__all__)
    assert exported == {n for n in vars(lib.alerts) if not n.startswith("_")} - {
        m.name for m in pkgutil.iter_modules(lib.alerts.__path__)
    }
    for module in pkgutil.iter_modules(lib.alerts.__path__):
        importlib.import_module(f"lib.alerts.{module.name}")

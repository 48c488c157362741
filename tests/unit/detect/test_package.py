"""lib.detect is pure and its public face is honest."""

import ast
import importlib
import pkgutil
from pathlib import Path

import lib.detect

# Pure modules may use numpy, the standard library's pure parts and lib.errors; never the
# shell, the simulator, a clock, the environment or a global random generator.
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
    "random",
    "socket",
    "httpx",
)
# The CLI is the package's own shell: it reads files and stdin and turns text dates into
# seconds (parsing, not reading the clock).
SHELL = {"__main__.py": {"sys", "argparse"}, "csvio.py": {"datetime"}}


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


def test_detect_modules_import_nothing_impure() -> None:
    root = Path(lib.detect.__file__).parent
    for path in root.glob("*.py"):
        names = imported_names(path)
        for name in names:
            assert not any(name == f or name.startswith(f"{f}.") for f in FORBIDDEN), (path, name)
            assert name != "numpy.random", path
        if path.name not in SHELL:
            assert not names & {"sys", "argparse", "datetime"}, path


def test_all_lists_exactly_the_public_names() -> None:
    exported = set(lib.detect.__all__)
    assert exported == {n for n in vars(lib.detect) if not n.startswith("_")} - {
        m.name for m in pkgutil.iter_modules(lib.detect.__path__)
    }
    for module in pkgutil.iter_modules(lib.detect.__path__):
        importlib.import_module(f"lib.detect.{module.name}")

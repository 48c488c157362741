"""lib.analysis is pure and its public face is honest."""

import importlib
import pkgutil
from pathlib import Path

import lib.analysis
from tests.unit.alerts.test_package import FORBIDDEN, imported_names


def test_analysis_modules_import_nothing_impure():
    for path in Path(lib.analysis.__file__).parent.glob("*.py"):
        for name in imported_names(path):
            assert not any(name == f or name.startswith(f"{f}.") for f in FORBIDDEN), (path, name)
            assert name != "numpy.random", path


def test_all_lists_exactly_the_public_names():
    modules = {m.name for m in pkgutil.iter_modules(lib.analysis.__path__)}
    public = {n for n in vars(lib.analysis) if not n.startswith("_")} - modules
    assert set(lib.analysis.__all__) == public
    for name in modules:
        importlib.import_module(f"lib.analysis.{name}")

"""The console's page asks for everything its first view needs at once, not level by level."""

from __future__ import annotations

import re
from pathlib import Path

PUBLIC = Path(__file__).parents[3] / "public"
STATIC_IMPORT = re.compile(r'^(?:import|export)\b[^;]*?\bfrom\s+"\./([\w-]+\.js)"', re.M | re.S)


def static_imports(module: str) -> set[str]:
    """Every module ``module`` imports statically, transitively (dynamic imports are lazy)."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += STATIC_IMPORT.findall((PUBLIC / "js" / name).read_text())
    return seen


def preloads(kind: str) -> list[str]:
    html = (PUBLIC / "index.html").read_text()
    return re.findall(rf'<link rel="{kind}" href="([^"]+)"', html)


def test_every_module_of_the_page_is_preloaded() -> None:
    graph = static_imports("main.js")
    assert len(graph) > 10  # the parser found the imports
    preloaded = {href.removeprefix("/js/") for href in preloads("modulepreload")}
    assert graph - preloaded == set(), "modules loaded one import level at a time"
    assert preloaded - graph == set(), "preloaded but never imported"


def test_the_fleet_is_fetched_with_the_modules() -> None:
    # The URL the console's first ``fleetAll()`` asks for, or the preload is wasted.
    assert preloads("preload") == ["/api/fleet?limit=500"]
    api = (PUBLIC / "js" / "api.js").read_text()
    assert 'api("/fleet", { query: { ...query, limit: 500 } })' in api

"""Benchmark of the dashboard in Debian's Chromium: first live data, scripting per tick, weight.

Run it with::

    .venv/bin/python -m tests.bench.bench_ui [--ticks 20] [--loads 5]

The app (embedded defaults, three-second buckets) is served on a free loopback port, once with
30 servers and once with 1,000, and the console is opened on the server grid:

1. First live data: from navigation start to the grid showing a bucket with the live
   indicator on (``performance.now()`` in the page, polled every frame), median of
   ``--loads`` fresh loads, with 30 and with 1,000 servers. Target: under 1 s locally.
2. Scripting per tick: Chromium's ``Performance.getMetrics`` (``ScriptDuration``, and
   ``TaskDuration`` for all main-thread work) over ``--ticks`` buckets once the page has
   settled, divided by the buckets the stream delivered. Target: under 16 ms at 1,000
   servers. Printed beside the 30-server figure: the ratio says how it scales.
3. Page weight: every response the page loads for the grid and a server's detail (HTML, JS,
   CSS, uPlot), gzip-compressed at level 9 as a CDN would send it. Target: under 150 KB.

Figures are printed, never asserted: the machine is shared.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.conftest import CHROMIUM, LAUNCH_ARGS, Console, serve_console

FIRST_LIVE = """() => {
  const live = document.querySelector('#live')?.dataset.state === 'live';
  const shown = document.querySelector('#grid .card[data-bucket]');
  return live && shown ? performance.now() : false;
}"""
COMMAND = ".venv/bin/python -m tests.bench.bench_ui"


@contextmanager
def console_of(servers: int) -> Iterator[Console]:
    # The production bucket (3 s) and batch: a thousand servers' detection every second
    # would measure the shared machine's two cores, not the page.
    served = serve_console(fleet_size=servers, bucket_seconds=3, advance_batch_buckets=20)
    try:
        yield next(served)
    finally:
        served.close()


def fleet_api_s(url: str) -> float:
    """Seconds for the two pages of ``/api/fleet`` the console loads first, once warm."""
    httpx.get(f"{url}/api/fleet", params={"limit": 500}, timeout=600)
    started = time.perf_counter()
    for page in (1, 2):
        httpx.get(f"{url}/api/fleet", params={"limit": 500, "page": page}, timeout=600)
    return time.perf_counter() - started


def first_live_ms(browser: Browser, url: str, loads: int) -> float:
    times = []
    for _ in range(loads):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(f"{url}/#/servers")
        times.append(page.wait_for_function(FIRST_LIVE, polling="raf", timeout=30_000).json_value())
        context.close()
    return float(statistics.median(times))


def metrics(cdp: Any) -> dict[str, float]:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def stream_bucket(page: Page) -> int:
    return int(page.get_attribute("body", "data-stream-bucket") or 0)


def per_tick_ms(browser: Browser, url: str, ticks: int) -> tuple[float, float, int]:
    """Scripting and all main-thread task time per delivered bucket, and the buckets seen."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{url}/#/servers")
    page.wait_for_function(FIRST_LIVE, timeout=600_000)
    page.wait_for_timeout(4_000)  # the sparkline catch-up and first renders are done
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable", {"timeDomain": "threadTicks"})
    before, b0 = metrics(cdp), stream_bucket(page)
    # Polled once a second: the default (every animation frame) would add its own scripting
    # to every frame and be measured with the page's.
    page.wait_for_function(
        "b => Number(document.body.dataset.streamBucket) >= b",
        arg=b0 + ticks,
        polling=1000,
        timeout=600_000,
    )
    after, b1 = metrics(cdp), stream_bucket(page)
    context.close()
    n = max(1, b1 - b0)
    script = (after["ScriptDuration"] - before["ScriptDuration"]) * 1000 / n
    task = (after["TaskDuration"] - before["TaskDuration"]) * 1000 / n
    return script, task, n


def page_weight(browser: Browser, url: str) -> tuple[int, int, list[tuple[str, int, int]]]:
    """Raw and gzip-9 bytes of what the grid and a detail page load (the API excepted)."""
    context = browser.new_context()
    page = context.new_page()
    loaded: dict[str, bytes] = {}

    def keep(response: Any) -> None:
        path = response.url.removeprefix(url)
        if not path.startswith("/api/") and response.status == 200:
            loaded[path] = response.body()

    page.on("response", keep)
    page.goto(f"{url}/#/servers")
    page.wait_for_function(FIRST_LIVE, timeout=30_000)
    page.goto(f"{url}/#/server/db-01")
    page.wait_for_selector("#chart canvas", timeout=30_000)
    context.close()
    rows = sorted(
        ((p, len(b), len(gzip.compress(b, 9))) for p, b in loaded.items()),
        key=lambda r: -r[2],
    )
    return sum(r[1] for r in rows), sum(r[2] for r in rows), rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=20)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"$ {COMMAND} --ticks {args.ticks} --loads {args.loads}")
    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        for servers in (30, 1000):
            with console_of(servers) as console:
                started = time.perf_counter()
                api_s = fleet_api_s(console.url)
                first = first_live_ms(browser, console.url, args.loads)
                script, task, n = per_tick_ms(browser, console.url, args.ticks)
                results[servers] = (api_s, first, script, task, n)
                if servers == 30:
                    raw, packed, rows = page_weight(browser, console.url)
                print(f"  {servers} servers measured in {time.perf_counter() - started:.0f} s")
        browser.close()
    print(
        "\n| servers | /api/fleet, both pages (server) | first live data (median) "
        "| scripting / tick | main-thread tasks / tick |"
    )
    print("|---|---|---|---|---|")
    for servers, (api_s, first, script, task, n) in results.items():
        print(
            f"| {servers:,} | {api_s * 1000:.0f} ms | {first:.0f} ms | {script:.2f} ms "
            f"| {task:.2f} ms ({n} ticks) |"
        )
    small, large = results[30], results[1000]
    print(
        f"\n1,000 vs 30 servers: first live data x{large[1] / max(small[1], 1e-9):.1f}, "
        f"scripting per tick x{large[2] / max(small[2], 1e-9):.1f}"
    )
    print("targets: first live data < 1000 ms; scripting < 16 ms per tick at 1,000 servers")
    print(f"\npage weight (grid + detail): {raw / 1024:.1f} KB raw, {packed / 1024:.1f} KB gzip-9")
    for path, size, small in rows:
        print(f"  {path:<28} {size / 1024:7.1f} KB  {small / 1024:6.1f} KB gz")
    print("target: < 150 KB compressed")
    print(f"\n(figures from: {COMMAND} --ticks {args.ticks} --loads {args.loads})")


if __name__ == "__main__":
    main()

"""A real Prometheus (the Debian ``prometheus`` package) scraping a test app, and ``promtool``.

``PrometheusServer(targets=["127.0.0.1:8123"])`` writes a configuration scraping each target's
``/api/metrics`` every second into a temporary directory, starts ``prometheus`` on a free
port with its storage there, and waits until it reports ready. ``wait_for(query, …)`` polls
its HTTP API until the answer satisfies a condition or a deadline passes; nothing sleeps a
fixed time hoping the scrape has happened.

``check_metrics(text)`` runs ``promtool check metrics``: the exposition linter.

Register with ``pytest_plugins = ["tests.support.prometheus_service"]`` for the version in
the report header.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import httpx

from tests.support.ports import free_port

Series = list[dict[str, Any]]
"""An instant vector from ``/api/v1/query``: ``[{"metric": {labels}, "value": [t, "v"]}]``."""


def find_binary(name: str) -> Path:
    """``prometheus`` or ``promtool``, both from the Debian ``prometheus`` package."""
    if found := shutil.which(name):
        return Path(found)
    raise RuntimeError(
        f"{name} not found; install it with `apt-get install prometheus` (see `make test`)"
    )


@cache
def prometheus_version() -> str:
    out = subprocess.run(
        [str(find_binary("prometheus")), "--version"], capture_output=True, text=True, check=True
    )
    first = (out.stdout or out.stderr).splitlines()[0]  # "prometheus, version 2.42.0+ds (…)"
    match = re.search(r"version (\S+)", first)
    return match.group(1) if match else first


def check_metrics(text: str) -> subprocess.CompletedProcess[str]:
    """``promtool check metrics`` on an exposition; ``returncode`` 0 when it has no complaint."""
    return subprocess.run(
        [str(find_binary("promtool")), "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
    )


class PrometheusServer:
    """One ``prometheus`` process on 127.0.0.1, keeping its data in a temporary directory."""

    def __init__(
        self,
        targets: Sequence[str],
        *,
        metrics_path: str = "/api/metrics",
        scrape_interval_s: int = 1,
    ) -> None:
        self.targets = list(targets)
        self.metrics_path = metrics_path
        self.scrape_interval_s = scrape_interval_s
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.root = Path(tempfile.mkdtemp(prefix="openmanager-prometheus-"))
        self.log_file = self.root / "prometheus.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._http = httpx.Client(base_url=self.url, timeout=5)

    def _write_config(self) -> Path:
        config = {
            "global": {
                "scrape_interval": f"{self.scrape_interval_s}s",
                "scrape_timeout": f"{self.scrape_interval_s}s",
            },
            "scrape_configs": [
                {
                    "job_name": "openmanager",
                    "metrics_path": self.metrics_path,
                    "static_configs": [{"targets": self.targets}],
                }
            ],
        }
        path = self.root / "prometheus.yml"
        path.write_text(json.dumps(config))  # JSON is YAML
        return path

    def start(self, timeout_s: float = 30.0) -> None:
        """Start and wait until ``/-/ready`` answers 200."""
        args = [
            str(find_binary("prometheus")),
            f"--config.file={self._write_config()}",
            f"--storage.tsdb.path={self.root / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=warn",
        ]
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(args, cwd=self.root, stdout=log, stderr=log)
        self._poll(
            lambda: self._http.get("/-/ready").status_code == 200, timeout_s, lambda: "ready"
        )

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        self._http.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def query(self, promql: str) -> Series:
        """An instant query's result vector."""
        response = self._http.get("/api/v1/query", params={"query": promql})
        response.raise_for_status()
        body = response.json()
        assert body["status"] == "success", body
        return list(body["data"]["result"])

    def wait_for(
        self, promql: str, done: Callable[[Series], bool], timeout_s: float = 20.0
    ) -> Series:
        """Poll ``promql`` until ``done(result)``; the last result, or ``TimeoutError``."""
        result: Series = []

        def check() -> bool:
            nonlocal result
            result = self.query(promql)
            return done(result)

        self._poll(check, timeout_s, lambda: f"{promql!r} to be satisfied (last: {result})")
        return result

    def _poll(self, check: Callable[[], bool], timeout_s: float, what: Callable[[], str]) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if check():
                    return
            except httpx.TransportError:
                pass  # not listening yet
            if self._process is not None and self._process.poll() is not None:
                tail = self.log_file.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"prometheus exited\n{tail}")
            if time.monotonic() > deadline:
                tail = self.log_file.read_text(errors="replace")[-2000:]
                raise TimeoutError(f"waited {timeout_s} s for {what()}\n{tail}")
            time.sleep(0.1)

    def __enter__(self) -> PrometheusServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def pytest_report_header() -> str:
    try:
        return f"prometheus: {prometheus_version()} ({find_binary('prometheus')})"
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        return f"prometheus: unavailable ({exc})"

"""Benchmark of the assistant: time to the first event and to ``done``, over the evaluation set.

Run it with::

    .venv/bin/python -m tests.bench.bench_ai [--questions 188] [--llm-questions 30]

The evaluation world (``tests/ai/world.py``, three injected incidents open) is served by
uvicorn on a loopback port in this process; one httpx client asks each question of
``tests/ai/eval_cases.yaml`` with ``Accept: text/event-stream`` and times, from sending the
request, the first event's bytes and the ``done`` event's. Three rows side by side, measured in
the same run on the same questions: the local engine alone; the local engine asked about a
past bucket each time (its view computed for the question: the worst case); and the model
path against the fake OpenAI-compatible server of ``tests/support/fake_llm.py`` (a normal
stream, 2 ms between words), whose difference is the model's phrasing. Targets: first event
p95 < 100 ms; a local answer typically (p50) < 300 ms. Times are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.ai.world import EvalWorld
from tests.bench.provenance import commit
from tests.support.app_server import AppServer
from tests.support.fake_llm import FakeLlmServer

COMMAND = ".venv/bin/python -m tests.bench.bench_ai"
ROOT = Path(__file__).resolve().parents[2]
CASES: list[dict[str, Any]] = yaml.safe_load(
    (ROOT / "tests" / "ai" / "eval_cases.yaml").read_text(encoding="utf-8")
)


def _timed(client: httpx.Client, url: str, question: str, bucket: int) -> tuple[float, float, str]:
    """Seconds to the first event and to ``done``, and the engine that answered."""
    t0 = time.perf_counter()
    first = None
    engine = "?"
    body = {"question": question, "at": bucket}
    with client.stream(
        "POST", f"{url}/api/ai/ask", json=body, headers={"Accept": "text/event-stream"}
    ) as r:
        last = ""
        for line in r.iter_lines():
            if first is None and line.startswith("event:"):
                first = time.perf_counter() - t0
            if line.startswith("event:"):
                last = line.removeprefix("event:").strip()
            elif last == "done" and line.startswith("data:"):
                engine = "llm" if '"engine":"llm"' in line else "local"
                break
    return first or 0.0, time.perf_counter() - t0, engine


def _run(
    world: EvalWorld, questions: list[str], *, past: bool = False
) -> tuple[list[float], list[float], list[str]]:
    """Ask each question about the current bucket, or (``past``) each about another bucket
    of the last 10 minutes, whose view nobody has computed yet."""
    moments = world.moments()
    for _ in range(3):
        next(moments)
    now = world.bucket()
    with AppServer(world.app) as server, httpx.Client(timeout=30) as client:
        _timed(client, server.url, "help", now)  # warm: imports, the bucket's view
        runs = [
            _timed(client, server.url, q, now - (1 + k) * 3 if past else now)
            for k, q in enumerate(questions)
        ]
    return [r[0] for r in runs], [r[1] for r in runs], [r[2] for r in runs]


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] * 1e3


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=len(CASES))
    parser.add_argument("--llm-questions", type=int, default=30)
    args = parser.parse_args(argv)
    questions = [c["q"] for c in CASES][: args.questions]
    print(f"command: {COMMAND} --questions {args.questions} --llm-questions {args.llm_questions}")
    print(f"commit {commit()}, python {platform.python_version()}, cpus {os.cpu_count()}")

    local = EvalWorld()
    first, done, _ = _run(local, questions)
    local.close()
    past_world = EvalWorld()
    first_past, done_past, _ = _run(past_world, questions, past=True)
    past_world.close()

    fake = FakeLlmServer()
    fake.start()
    llm_world = EvalWorld(ai_base_url=fake.base_url, ai_api_key=fake.model.api_key)
    llm_questions = questions[: args.llm_questions]
    first_llm, done_llm, engines = _run(llm_world, llm_questions)
    llm_world.close()
    fake.stop()

    print(
        f"\n{'path':<34}{'n':>5}{'first p50':>11}{'first p95':>11}{'done p50':>10}{'done p95':>10}"
    )
    for name, f, d in (
        ("local engine", first, done),
        ("local, each about a new past bucket", first_past, done_past),
        ("local, then fake model (2 ms/word)", first_llm, done_llm),
    ):
        cells = f"{_p(f, 50):>9.1f}ms{_p(f, 95):>9.1f}ms{_p(d, 50):>8.1f}ms{_p(d, 95):>8.1f}ms"
        print(f"{name:<34}{len(f):>5}{cells}")
    answered = engines.count("llm")
    print(f"model answered {answered}/{len(engines)} (the rest: local intents or fallbacks)")
    print(f"done p50, model / local: ×{_p(done_llm, 50) / _p(done, 50):.1f}")
    print("targets: first event p95 < 100 ms; local answer p50 < 300 ms")


if __name__ == "__main__":
    main()

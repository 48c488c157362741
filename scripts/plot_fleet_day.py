"""Render docs/fleet-day.png: one simulated day of a few servers, with an incident marked.

Run: .venv/bin/python scripts/plot_fleet_day.py   (or: make plot)

Shows CPU and memory of four servers over 2026-01-01 (UTC, one point a minute), with one
injected memory leak shaded (light: precursor, dark: visible phase) and labelled, and the
seeded schedule switched off so that the picture stays readable.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.config import DEFAULT_EPOCH_S  # noqa: E402
from lib.sim import REGIONS, Incident, Overrides, build_fleet, impact_of, window  # noqa: E402
from lib.sim.metrics import CPU, MEMORY  # noqa: E402

SEED = 20_251_123
DAY = 28_800
SERVERS = ("web-06", "api-02", "db-01", "cache-02")
OUTPUT = ROOT / "docs" / "fleet-day.png"


def main() -> None:
    fleet = build_fleet(SEED, 30, epoch_s=DEFAULT_EPOCH_S)
    leaking = fleet.index_of("api-02")
    leak = Incident("leak-1", "memory_leak", (leaking,), start_bucket=17_400, duration_buckets=800)
    overrides = Overrides(injected=(leak,), failures_enabled=False)
    impact = impact_of(fleet, leak, overrides)
    servers = [fleet.index_of(s) for s in SERVERS]
    values = window(fleet, 0, DAY, overrides, servers=servers)[::20]  # one point a minute
    hours = np.arange(values.shape[0]) / 60

    fig, axes = plt.subplots(2, 1, figsize=(11, 6.5), sharex=True, constrained_layout=True)
    for ax, metric, label in ((axes[0], CPU, "CPU %"), (axes[1], MEMORY, "memory %")):
        for column, server in enumerate(servers):
            region = REGIONS[int(fleet.region[server])]
            ax.plot(hours, values[:, column, metric], lw=1, label=f"{fleet.ids[server]} ({region})")
        ax.axvspan(
            impact.first_bucket / 1200, leak.start_bucket / 1200, color="tab:red", alpha=0.12
        )
        ax.axvspan(leak.start_bucket / 1200, impact.end_bucket / 1200, color="tab:red", alpha=0.3)
        ax.set_ylabel(label)
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
    axes[1].annotate(
        "memory_leak on api-02\n(precursor, then OOM kills)",
        xy=(leak.start_bucket / 1200, 97),
        xytext=(leak.start_bucket / 1200 - 7.5, 88),
        arrowprops={"arrowstyle": "->", "color": "tab:red"},
        color="tab:red",
    )
    axes[0].legend(loc="upper left", fontsize=8, ncols=2)
    axes[0].set_title(f"Simulated fleet (seed {SEED}), 2026-01-01, one point a minute")
    axes[1].set_xlabel("hour of the day (UTC)")
    axes[1].set_xticks(range(0, 25, 2))
    OUTPUT.parent.mkdir(exist_ok=True)
    fig.savefig(OUTPUT, dpi=110)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Deterministic log lines of one server: routine noise plus what incidents really write.

Routine INFO lines appear about every 40 s, chosen by role; an incident adds WARN/ERROR lines
on the servers it reaches while it acts on them (sparser during a precursor or the climb of a
gradual failure, only during bursts for an intermittent one, fewer for a mild one), a crash
or OOM line when the process dies, and an INFO line when a recovery ends it. Benign events
write their routine lines on their targets. Numbers in messages are the server's metrics at
that bucket, so logs and charts agree. ``LogLine.incident_id`` is ground truth: for the
evaluation, not for the diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import numpy as np
import numpy.typing as npt

from lib.errors import ValidationError
from lib.sim.benign import benign_between
from lib.sim.failures import FULL_FROM, Reach, Shape, Wave, wave
from lib.sim.fleet import Fleet
from lib.sim.fleet_state import window
from lib.sim.incidents import Impact, Overrides
from lib.sim.log_templates import (
    BENIGN,
    CRASH,
    OOM_KILL,
    PRECURSOR,
    RECOVERED,
    ROUTINE,
    VISIBLE,
)
from lib.sim.metrics import (
    CONNECTIONS,
    CPU,
    DISK,
    ERROR,
    LOAD1,
    MEMORY,
    NET_OUT,
    PACKET_LOSS,
    RESPONSE,
    RPS,
)
from lib.sim.noise import hash_ints, hash_text, uniform, unit
from lib.sim.processes import ROLE_PROCESSES
from lib.sim.roles import REGIONS
from lib.sim.schedule import impacts_between

ROUTINE_CHANCE: Final = 0.075  # per bucket: about one line every 40 s at 3 s buckets
VISIBLE_CHANCE: Final = 0.35
PRECURSOR_CHANCE: Final = 0.08
BENIGN_CHANCE: Final = 0.05
MAX_DAYS: Final = 1
_LOG_DOMAIN: Final = 0x106


@dataclass(frozen=True)
class LogLine:
    """One log line; ``incident_id`` names the incident that wrote it, if any."""

    ts_s: int
    bucket: int
    server: str
    level: str  # INFO | WARN | ERROR
    source: str
    message: str
    incident_id: str | None = None

    @property
    def timestamp(self) -> str:
        """ISO 8601, UTC, seconds."""
        return datetime.fromtimestamp(self.ts_s, UTC).isoformat().replace("+00:00", "Z")


def logs(fleet: Fleet, server: int, b0: int, b1: int, overrides: Overrides) -> tuple[LogLine, ...]:
    """Log lines of server index ``server`` in buckets ``[b0, b1)`` (at most a day), oldest
    first. ``fleet.index_of`` turns an id into an index."""
    if not 0 <= server < fleet.size:
        raise ValidationError(f"no server {server}", field="server")
    if not 0 <= b1 - b0 <= MAX_DAYS * 86_400 // fleet.bucket_seconds:
        raise ValidationError(f"bucket range [{b0}, {b1}) is reversed or over a day", field="b1")
    values = window(fleet, b0, b1, overrides, servers=[server])[:, 0]
    writer = _Writer(fleet, server, b0, values)
    buckets = np.arange(b0, b1, dtype=np.int64)
    routine = ROUTINE[int(fleet.role[server])]
    for b in buckets[uniform(hash_ints(fleet.seed, _LOG_DOMAIN, server), buckets) < ROUTINE_CHANCE]:
        writer.write(int(b), routine[hash_ints(fleet.seed, _LOG_DOMAIN, server, int(b)) % 3])
    for impact in impacts_between(fleet, b0, b1, overrides):
        _incident_lines(writer, impact, b0, b1)
    for impact in benign_between(fleet, b0, b1, overrides):
        _benign_lines(writer, impact, b0, b1)
    return tuple(sorted(writer.lines, key=lambda line: (line.ts_s, line.message)))


class _Writer:
    """Renders templates for one server, collecting the lines."""

    def __init__(self, fleet: Fleet, server: int, b0: int, values: npt.NDArray[np.float32]):
        self.fleet, self.server, self.b0, self.values = fleet, server, b0, values
        self.process = ROLE_PROCESSES[int(fleet.role[server])][0][0]
        self.lines: list[LogLine] = []

    def write(
        self,
        bucket: int,
        template: tuple[str, str, str],
        impact: Impact | None = None,
        **extra: str,
    ) -> None:
        fleet = self.fleet
        h = hash_ints(fleet.seed, _LOG_DOMAIN, self.server, bucket, hash_text(template[2]))
        v = [float(x) for x in self.values[bucket - self.b0]]
        context: dict[str, object] = {
            "cpu": v[CPU],
            "mem": v[MEMORY],
            "disk": v[DISK],
            "loss": v[PACKET_LOSS],
            "resp": v[RESPONSE],
            "err": v[ERROR],
            "rps": v[RPS],
            "rpm": v[RPS] * 60,
            "conns": v[CONNECTIONS],
            "load1": v[LOAD1],
            "net_out": v[NET_OUT],
            "gc": 2.0 + 30.0 * unit(h),
            "n": 1 + h % 9,
            "idle": 20 - (1 + h % 9),
            "pid": 300 + (h >> 8) % 32_000,
            "slow": 1500 + (h >> 20) % 3000,
            "proc": self.process,
            "cores": int(fleet.cores[self.server]),
            "region": REGIONS[int(fleet.region[self.server])],
            "target": fleet.ids[self.server],
            "ip": "185.220.101.17",
            "port": 40_000 + (h >> 32) % 20_000,
            **extra,
        }
        level, source, message = template
        self.lines.append(
            LogLine(
                ts_s=fleet.epoch_s + bucket * fleet.bucket_seconds + h % fleet.bucket_seconds,
                bucket=bucket,
                server=fleet.ids[self.server],
                level=level,
                source=source.format(**context),
                message=message.format(**context),
                incident_id=None if impact is None else impact.incident.id,
            )
        )


def _sparse(
    writer: _Writer,
    impact: Impact,
    buckets: npt.NDArray[np.int64],
    chance: float,
    templates: tuple[tuple[str, str, str], ...],
    extra: dict[str, str],
) -> None:
    """Write one of ``templates`` at about ``chance`` of ``buckets``, drawn from the event."""
    if not buckets.size or not templates:
        return
    key = impact.incident.draw
    for b in buckets[uniform(hash_ints(key, writer.server), buckets) < chance]:
        pick = hash_ints(key, writer.server, int(b)) % len(templates)
        writer.write(int(b), templates[pick], impact, **extra)


def _between(lo: int, hi: int, b0: int, b1: int) -> npt.NDArray[np.int64]:
    return np.arange(max(lo, b0), min(hi, b1), dtype=np.int64)


def _incident_lines(writer: _Writer, impact: Impact, b0: int, b1: int) -> None:
    fleet, server = writer.fleet, writer.server
    incident = impact.incident
    failure = incident.failure
    # The event's draw, not its id: an injection's id is random, its lines are not.
    key = incident.draw
    first_target = incident.targets[0]
    extra = {
        "target": fleet.ids[first_target],
        "region": REGIONS[int(fleet.region[first_target])],
        "ip": f"185.220.{key % 200 + 20}.{(key >> 8) % 250 + 2}",
        "strategy": failure.recovery.name,
    }
    bs = fleet.bucket_seconds
    start = incident.start_bucket
    visible = impact.end_bucket - start
    climb = {
        Shape.GRADUAL: int(FULL_FROM * incident.onset_s) // bs,
        Shape.RAMP: incident.onset_buckets(bs) // 2,
    }.get(failure.shape, 0)
    early = PRECURSOR.get(incident.type, ())
    if server in incident.targets:
        before = _between(impact.first_bucket, impact.precursor_end, b0, b1)
        _sparse(writer, impact, before, PRECURSOR_CHANCE, early, extra)
    for group in impact.groups:
        if server not in group.servers or visible <= 0:
            continue
        g = start + group.lag_buckets
        templates = VISIBLE.get((incident.type, group.reach), ())
        if group.reach is Reach.TARGET and early:
            # Until a gradual or ramping failure is near its worst, only warnings show.
            _sparse(writer, impact, _between(g, g + min(climb, visible), b0, b1),
                    PRECURSOR_CHANCE, early, extra)  # fmt: skip
            lo = g + min(climb, visible)
        else:
            lo = g
        buckets = _between(lo, g + visible, b0, b1)
        if failure.shape is Shape.INTERMITTENT:
            burst = wave(Wave.BURST, (buckets - g) * bs, incident.onset_s, incident.period_s)
            buckets = buckets[burst == 1]
        _sparse(writer, impact, buckets, VISIBLE_CHANCE * incident.scale, templates, extra)
        if group.reach is not Reach.TARGET:
            continue
        if incident.type == "application_crash" and b0 <= g < b1:
            writer.write(g, CRASH, impact, **extra)
        if incident.type == "memory_leak":
            buckets = _between(g, g + visible, b0, b1)
            kill = wave(Wave.OOM, (buckets - g) * bs, incident.onset_s, incident.period_s)
            previous = wave(Wave.OOM, (buckets - g - 1) * bs, incident.onset_s, incident.period_s)
            for b in buckets[(kill == 1) & ((previous == 0) | (buckets == g))]:
                writer.write(int(b), OOM_KILL, impact, **extra)
        if impact.recovered and server == first_target and b0 <= impact.end_bucket < b1:
            writer.write(impact.end_bucket, RECOVERED, impact, **extra)


def _benign_lines(writer: _Writer, impact: Impact, b0: int, b1: int) -> None:
    """Routine work: a line at the start on each target, then a few while it lasts."""
    incident = impact.incident
    if writer.server not in incident.targets:
        return
    templates = BENIGN[incident.type]
    extra = {"region": REGIONS[int(writer.fleet.region[writer.server])]}
    start = incident.start_bucket
    if b0 <= start < b1:
        writer.write(start, templates[0], impact, **extra)
    during = _between(start + 1, impact.end_bucket, b0, b1)
    _sparse(writer, impact, during, BENIGN_CHANCE, templates[1:], extra)
